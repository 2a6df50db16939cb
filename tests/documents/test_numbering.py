"""Outgoing numbers: one sequence per kind and year, without gaps or duplicates, even under concurrency."""

from __future__ import annotations

import threading
from typing import Any

import pytest
from django.db import connection, transaction

from backend.documents.models import DocumentNumberSequence, GeneratedDocument
from backend.documents.numbering import format_number, next_number
from backend.documents.services import document_request

from .conftest import example


class Abandoned(Exception):
    pass


def take_and_abandon(work: Any) -> None:
    """Do the work in a transaction that then fails."""
    with transaction.atomic():
        work()
        raise Abandoned


def take(kind: str, year: int = 2026) -> int:
    with transaction.atomic():
        return next_number(kind=kind, year=year)


def test_the_number_format_carries_prefix_year_and_six_digits() -> None:
    assert format_number(prefix="ТР", year=2026, number=154) == "ТР-2026/000154"


@pytest.mark.django_db
def test_each_kind_and_year_counts_on_its_own() -> None:
    assert [take("memo"), take("memo"), take("memo", 2027), take("note"), take("memo")] == [1, 2, 1, 1, 3]


@pytest.mark.django_db
def test_a_number_taken_in_a_rolled_back_transaction_is_given_out_again() -> None:
    # Given one number already given out
    first = take("memo")

    # When the next one is taken in a transaction that then fails
    taken: list[int] = []
    with pytest.raises(Abandoned):
        take_and_abandon(lambda: taken.append(next_number(kind="memo", year=2026)))
    [abandoned] = taken

    # Then the following caller gets that same number: no gap
    assert abandoned == first + 1
    assert take("memo") == abandoned


@pytest.mark.django_db
def test_a_numbered_request_that_is_rolled_back_leaves_no_gap() -> None:
    # Given a numbered memo requested in a transaction that fails afterwards
    context = example("login_request", "kk") | {"number": ""}
    requested: list[GeneratedDocument] = []
    with pytest.raises(Abandoned):
        take_and_abandon(
            lambda: requested.append(
                document_request(kind="login_request", language="kk", context=context, key="a", allocate_number=True)
            )
        )
    [lost] = requested

    # When the next memo is requested, then it carries the number the failed one had
    kept = document_request(kind="login_request", language="kk", context=context, key="b", allocate_number=True)
    assert kept.number == lost.number
    assert not GeneratedDocument.objects.filter(key="a").exists()


@pytest.mark.django_db
def test_asking_twice_for_a_numbered_document_takes_one_number() -> None:
    context = example("grade_sheet", "ru")
    first = document_request(kind="grade_sheet", language="ru", context=context, key="g", allocate_number=True)
    second = document_request(kind="grade_sheet", language="ru", context=context, key="g", allocate_number=True)
    assert first.number == second.number
    assert DocumentNumberSequence.objects.get(kind="grade_sheet").last_number == 1


def run_concurrently(count: int, work: Any) -> tuple[list[Any], list[BaseException]]:
    """Run `work` in `count` threads released at the same moment; each closes its own connection."""
    results: list[Any] = []
    errors: list[BaseException] = []
    start = threading.Barrier(count)

    def worker() -> None:
        try:
            start.wait()
            results.append(work())
        except BaseException as error:  # reported by the test, not swallowed by the thread
            errors.append(error)
        finally:
            connection.close()

    threads = [threading.Thread(target=worker) for _ in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=300)
    return results, errors


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_twenty_concurrent_allocations_are_gapless_and_unique() -> None:
    # When twenty callers take a number at the same moment (the first one also creates the sequence)
    numbers, errors = run_concurrently(20, lambda: take("concurrent"))

    # Then they got 1…20, each exactly once
    assert errors == []
    assert sorted(numbers) == list(range(1, 21))
    assert DocumentNumberSequence.objects.get(kind="concurrent", year=2026).last_number == 20


@pytest.mark.postgres
@pytest.mark.converter
@pytest.mark.django_db(transaction=True)
def test_twenty_concurrent_numbered_documents_get_twenty_distinct_numbers() -> None:
    # Given twenty memos requested at once, each numbered and generated when its transaction commits
    context = example("login_request", "ru") | {"number": ""}
    counter = iter(range(20))
    lock = threading.Lock()

    def request() -> str:
        with lock:
            key = f"memo-{next(counter)}"
        document = document_request(kind="login_request", language="ru", context=context, key=key, allocate_number=True)
        return document.number

    numbers, errors = run_concurrently(20, request)

    # Then the numbers are the first twenty of the year, each printed on its own ready document
    assert errors == []
    assert len(set(numbers)) == 20
    assert sorted(int(number.rsplit("/", 1)[1]) for number in numbers) == list(range(1, 21))
    documents = GeneratedDocument.objects.filter(kind="login_request")
    assert {document.status for document in documents} == {GeneratedDocument.Status.READY}
    assert sorted(document.number for document in documents) == sorted(numbers)


@pytest.mark.postgres
@pytest.mark.converter
@pytest.mark.django_db(transaction=True)
def test_ten_concurrent_requests_for_one_document_make_one_document_with_one_number() -> None:
    # When ten requests for the same grade sheet (same key) arrive at the same moment
    context = example("grade_sheet", "ru") | {"number": ""}
    ids, errors = run_concurrently(
        10,
        lambda: (
            document_request(kind="grade_sheet", language="ru", context=context, key="same", allocate_number=True).pk
        ),
    )

    # Then they all got the same document, and the losers' numbers were given back
    assert errors == []
    assert len(set(ids)) == 1
    document = GeneratedDocument.objects.get(kind="grade_sheet", key="same")
    assert document.status == GeneratedDocument.Status.READY
    assert document.number.endswith("/000001")
    assert DocumentNumberSequence.objects.get(kind="grade_sheet").last_number == 1
