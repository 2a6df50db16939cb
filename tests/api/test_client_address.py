"""The client's address comes from X-Forwarded-For only behind the configured trusted proxies: a forged header
buys no new allowance of token attempts or verification look-ups."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import RequestFactory
from rest_framework.test import APIClient

from backend.core.ratelimit import client_address

pytestmark = pytest.mark.django_db


def token_attempts(forwarded: list[str]) -> list[int]:
    client = APIClient()
    return [
        client.post(
            "/api/auth/token/", {"username": "teacher1", "password": "wrong"}, HTTP_X_FORWARDED_FOR=header
        ).status_code
        for header in forwarded
    ]


def test_without_trusted_proxies_a_new_forwarded_header_each_time_does_not_lift_the_token_limit(demo: None) -> None:
    statuses = token_attempts([f"203.0.113.{n}" for n in range(12)])
    assert statuses[:10] == [400] * 10
    assert statuses[10:] == [429, 429]


def test_behind_one_proxy_only_the_address_it_saw_counts(demo: None, settings: Any) -> None:
    settings.QUJAT_TRUSTED_PROXIES = 1
    # The client forges the left part; the proxy appends the address it really saw.
    statuses = token_attempts([f"198.51.100.{n}, 203.0.113.7" for n in range(12)])
    assert statuses[10:] == [429, 429]
    # A different real client still gets its own allowance
    assert token_attempts(["203.0.113.8"]) == [400]


def test_the_verification_limit_holds_against_forged_headers(demo: None) -> None:
    client = APIClient()
    statuses = [
        client.get("/api/verify/NOSUCHID0000/", HTTP_X_FORWARDED_FOR=f"192.0.2.{n}").status_code for n in range(32)
    ]
    assert 429 in statuses
    assert statuses.index(429) == 30


@pytest.mark.parametrize(
    ("proxies", "header", "expected"),
    [
        (0, "1.1.1.1", "127.0.0.1"),
        (1, "1.1.1.1", "1.1.1.1"),
        (1, "6.6.6.6, 1.1.1.1", "1.1.1.1"),
        (2, "6.6.6.6, 1.1.1.1, 10.0.0.2", "1.1.1.1"),
        (1, "", "127.0.0.1"),
    ],
)
def test_the_one_answer_to_who_the_client_is(settings: Any, proxies: int, header: str, expected: str) -> None:
    settings.QUJAT_TRUSTED_PROXIES = proxies
    request = RequestFactory().get("/", REMOTE_ADDR="127.0.0.1", HTTP_X_FORWARDED_FOR=header)
    assert client_address(request) == expected
    # django-axes asks the same function
    from axes.helpers import get_client_ip_address

    assert get_client_ip_address(request) == expected
