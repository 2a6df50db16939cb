"""The client's address, and a fixed-window request counter per address for public pages.

`client_address` is the one answer to "who is this client" for DRF throttles, django-axes and these limits.
"""

import time
from typing import Any

from django.conf import settings
from django.core.cache import cache
from django.http import HttpRequest


def client_address(request: Any) -> str:
    """REMOTE_ADDR, or behind QUJAT_TRUSTED_PROXIES proxies the address the outermost of them saw.

    Each trusted proxy appends the address it received the request from to X-Forwarded-For, so with n of
    them the client is the n-th entry from the right; anything further left was written by the client and
    is ignored (a forged header changes nothing).
    """
    meta = getattr(request, "META", {})
    remote = meta.get("REMOTE_ADDR", "") or "unknown"
    proxies = int(settings.QUJAT_TRUSTED_PROXIES)
    forwarded = [part.strip() for part in meta.get("HTTP_X_FORWARDED_FOR", "").split(",") if part.strip()]
    if proxies <= 0 or not forwarded:
        return remote
    return forwarded[-min(proxies, len(forwarded))]


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
