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
def api_token_revoke(*, token: ApiToken) -> None:
    """Log a client out: the token it authenticated with stops working with the next request."""
    ApiToken.objects.filter(pk=token.pk).delete()


@transaction.atomic
def api_tokens_revoke(*, user: User) -> int:
    deleted, _ = ApiToken.objects.filter(user=user).delete()
    return deleted


@transaction.atomic
def user_create(
    *,
    username: str,
    last_name: str,
    first_name: str,
    patronymic: str = "",
    email: str = "",
    iin: str | None = None,
    position: str = "",
    language: str = User.Language.RUSSIAN,
) -> User:
    """A new account without a usable password: its holder sets one themselves (nobody else ever knows it)."""
    user = User(
        username=username,
        last_name=last_name,
        first_name=first_name,
        patronymic=patronymic,
        email=email,
        iin=iin or None,
        position=position,
        language=language,
    )
    user.set_unusable_password()
    user.full_clean(exclude=["password"])
    user.save()
    return user


def user_sessions_revoke(*, user: User) -> int:
    """End every web session of the user at once (database-backed sessions are looked through)."""
    from django.contrib.sessions.models import Session
    from django.utils import timezone

    ended = 0
    for session in Session.objects.filter(expire_date__gt=timezone.now()).iterator():
        if str(session.get_decoded().get("_auth_user_id")) == str(user.pk):
            session.delete()
            ended += 1
    return ended


@transaction.atomic
def user_deactivate(*, user: User) -> tuple[int, int]:
    """Switch the account off and revoke its API tokens and sessions; returns (tokens, sessions) revoked."""
    user.is_active = False
    user.save(update_fields=["is_active"])
    return api_tokens_revoke(user=user), user_sessions_revoke(user=user)
