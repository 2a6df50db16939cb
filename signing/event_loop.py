"""Running pyHanko's async API from synchronous code, whether or not an event loop is already running."""

from __future__ import annotations

import asyncio
import concurrent.futures
from collections.abc import Coroutine
from typing import Any, TypeVar

T = TypeVar("T")


def run_blocking(coroutine: Coroutine[Any, Any, T]) -> T:
    """Run a coroutine to completion and return its result, from sync code or from inside a loop."""
    try:
        asyncio.get_running_loop()
        loop_running = True
    except RuntimeError:
        loop_running = False
    if not loop_running:
        # Outside the except block, so errors raised by the work are not chained to the
        # "no running event loop" RuntimeError in tracebacks and logs.
        return asyncio.run(coroutine)
    # asyncio.run refuses to nest inside a running loop (an async Django view, a Celery task
    # using asyncio); a private loop on a worker thread runs the work while the caller blocks,
    # which is what a synchronous API promises.
    with concurrent.futures.ThreadPoolExecutor(max_workers=1, thread_name_prefix="signing") as pool:
        return pool.submit(asyncio.run, coroutine).result()
