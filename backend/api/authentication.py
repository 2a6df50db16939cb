"""Token authentication against hashed tokens: a database leak does not leak usable keys."""

from typing import Any

from django.utils.translation import gettext_lazy as _
from rest_framework import authentication, exceptions

from backend.accounts.models import ApiToken
from backend.accounts.services import token_hash
from backend.accounts.tokens import token_by_hash


class HashedTokenAuthentication(authentication.TokenAuthentication):
    keyword = "Token"

    def authenticate_credentials(self, key: str) -> tuple[Any, ApiToken]:
        token = token_by_hash(token_hash(key))
        if token is None:
            raise exceptions.AuthenticationFailed(_("Invalid token."))
        if not token.user.is_active:
            raise exceptions.AuthenticationFailed(_("User inactive or deleted."))
        return token.user, token
