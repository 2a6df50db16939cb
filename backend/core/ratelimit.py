"""A fixed-window request counter per client address, for public pages (the API uses DRF throttles)."""

import time

from django.core.cache import cache
from django.http import HttpRequest


def client_address(request: HttpRequest) -> str:
    return request.META.get("REMOTE_ADDR", "") or "unknown"


def allow(request: HttpRequest, *, scope: str, limit: int, window_seconds: int = 60) -> bool:
    """Count this request; False once the client made more than `limit` in the current window."""
    key = f"ratelimit:{scope}:{client_address(request)}:{int(time.time() // window_seconds)}"
    cache.add(key, 0, window_seconds + 5)
    try:
        count = cache.incr(key)
    except ValueError:  # expired between add and incr
        cache.set(key, 1, window_seconds + 5)
        count = 1
    return count <= limit
