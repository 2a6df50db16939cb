"""Request limits of the API per client address (backend.core.ratelimit.client_address)."""

from typing import Any

from rest_framework.request import Request
from rest_framework.throttling import ScopedRateThrottle

from backend.core.ratelimit import client_address


class AddressThrottle(ScopedRateThrottle):
    """DRF's scoped throttle, counting per client address as the rest of the product sees it."""

    def get_ident(self, request: Request) -> str:
        return client_address(request)

    def get_cache_key(self, request: Request, view: Any) -> str | None:
        # Per address, logged in or not: a token or a session must not buy a new allowance.
        return self.cache_format % {"scope": self.scope, "ident": self.get_ident(request)}
