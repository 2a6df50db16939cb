"""Writes to people and their access."""

from __future__ import annotations

import hashlib
import secrets

from django.db import transaction

from .models import ApiToken, User


def token_hash(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


@transaction.atomic
def api_token_issue(*, user: User) -> str:
    """A new API token for `user`; the key is returned once and never stored."""
    key = secrets.token_urlsafe(32)
    ApiToken.objects.create(user=user, key_hash=token_hash(key), prefix=key[:8])
    return key


@transaction.atomic
def api_tokens_revoke(*, user: User) -> int:
    deleted, _ = ApiToken.objects.filter(user=user).delete()
    return deleted
