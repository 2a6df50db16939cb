"""API tokens recognised without a database read per request, and forgotten at once when revoked.

A token that authenticated is kept in the configured cache (Redis, or the file cache of the embedded
default) under its hash for a minute, with its user (and the roles the user holds that day, which every write
request asks) and the cache's current *generation*. Deleting a token (revocation, logout), changing or
deleting an account and changing a role assignment move the generation on, and again when the change
commits, so every entry kept before it is refused on the very next request and read again from the database. The
generation comes in the same cache round trip as the entry, and is read before the database when the entry
is missing: a request that read a token just before it was revoked stores it under the old generation, which
the commit has already left behind.
"""

from __future__ import annotations

import secrets
from typing import Any

from django.core.cache import cache
from django.db import transaction
from django.db.models.signals import post_delete, post_save
from django.dispatch import receiver
from django.utils import timezone

from .models import ApiToken, RoleAssignment, User
from .selectors import active_roles

TTL_SECONDS = 60
GENERATION = "api-token:generation"


def _entry_key(key_hash: str) -> str:
    return f"api-token:{key_hash}"


def _fresh_generation() -> int:
    # A random start, so entries kept before the generation itself was evicted from the cache never match again.
    cache.add(GENERATION, secrets.randbits(62), timeout=None)
    return int(cache.get(GENERATION, 0))


def token_by_hash(key_hash: str) -> ApiToken | None:
    """The token (with its user) stored under this hash, from the cache when it is known there."""
    entry_key = _entry_key(key_hash)
    found = cache.get_many([entry_key, GENERATION])
    generation = found.get(GENERATION)
    if generation is None:
        generation = _fresh_generation()
    entry = found.get(entry_key)
    if entry is not None and entry[0] == generation:
        token: ApiToken = entry[1]
        return token
    token_or_none = ApiToken.objects.select_related("user").filter(key_hash=key_hash).first()
    if token_or_none is not None and token_or_none.user.is_active:
        # "Last used" is stamped when the token is read from the database: at most a minute or two behind.
        now = timezone.now()
        if token_or_none.last_used_at is None or (now - token_or_none.last_used_at).total_seconds() > TTL_SECONDS:
            ApiToken.objects.filter(pk=token_or_none.pk).update(last_used_at=now)
            token_or_none.last_used_at = now
        user = token_or_none.user
        user.active_roles_kept = (timezone.localdate(), frozenset(active_roles(user)))  # type: ignore[attr-defined]
        cache.set(entry_key, (generation, token_or_none), TTL_SECONDS)
    return token_or_none


def tokens_forget() -> None:
    """Refuse every cached token from now on (each is read from the database once more)."""
    try:
        cache.incr(GENERATION)
    except ValueError:
        _fresh_generation()


def _forget_on_commit(**_: Any) -> None:
    # At once, so this transaction's own later requests see it, and again at the commit, for entries that
    # other requests stored meanwhile from what the database showed them before it.
    tokens_forget()
    transaction.on_commit(tokens_forget)


@receiver(post_delete, sender=ApiToken, dispatch_uid="api_token_forget_deleted")
def _token_deleted(**kwargs: Any) -> None:
    _forget_on_commit()


@receiver(post_save, sender=User, dispatch_uid="api_token_forget_user_changed")
def _user_changed(*, update_fields: frozenset[str] | None = None, **kwargs: Any) -> None:
    # A login only stamps last_login: nothing a token check depends on.
    if update_fields is not None and set(update_fields) <= {"last_login"}:
        return
    _forget_on_commit()


@receiver(post_save, sender=RoleAssignment, dispatch_uid="api_token_forget_role_saved")
@receiver(post_delete, sender=RoleAssignment, dispatch_uid="api_token_forget_role_deleted")
def _roles_changed(**kwargs: Any) -> None:
    _forget_on_commit()


@receiver(post_delete, sender=User, dispatch_uid="api_token_forget_user_deleted")
def _user_deleted(**kwargs: Any) -> None:
    _forget_on_commit()
