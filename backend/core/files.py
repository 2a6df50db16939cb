"""Files and rows agree: a stored file outlives its transaction only if the row that names it commits.

Generated files are written before the transaction that stores their row commits (a ready row never lacks its
files). What a failed transaction leaves is removed twice over:

- `file_written(field_file)` notes the file on the database connection's open transaction. When that
  transaction commits the note is dropped; when it rolls back (an exception, a lost connection) the file is
  deleted as soon as the request or the Celery task ends (`delete_rolled_back_files`).
- A process killed before either can happen (SIGKILL, the OOM killer, a power cut) leaves files that no row
  names: `orphan_files_sweep` (Celery beat, hourly) deletes the files under each registered folder that no row
  of its model names, once they are older than QUJAT_ORPHAN_FILE_GRACE_SECONDS (a younger one may belong to a
  transaction still open).
"""

from __future__ import annotations

import itertools
import logging
import threading
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from django.apps import apps
from django.conf import settings
from django.core.files.storage import Storage, default_storage
from django.db import DEFAULT_DB_ALIAS, connections, transaction
from django.db.models.fields.files import FieldFile
from django.utils import timezone

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class FileOwner:
    folder: str  # the storage folder the model's files are written under, e.g. "documents/"
    model: str  # "app_label.Model"
    fields: tuple[str, ...]


_OWNERS: list[FileOwner] = []
_pending = threading.local()
_tokens = itertools.count()


def register_file_owner(folder: str, model: str, *fields: str) -> None:
    """Files under `folder` belong to the rows of `model` that name them in `fields`; the others are orphans."""
    if not folder.endswith("/"):
        folder += "/"
    if all(owner.folder != folder for owner in _OWNERS):
        _OWNERS.append(FileOwner(folder, model, fields))


def _waiting() -> dict[int, tuple[Storage, str]]:
    if not hasattr(_pending, "files"):
        _pending.files = {}
    return _pending.files


def file_written(field_file: FieldFile, using: str = DEFAULT_DB_ALIAS) -> None:
    """Note a file just written for a row of the open transaction: deleted again if the transaction rolls back."""
    if not field_file.name:
        return
    waiting = _waiting()
    token = next(_tokens)
    waiting[token] = (field_file.storage, field_file.name)
    # Runs at once outside a transaction; dropped with the transaction if it rolls back.
    transaction.on_commit(lambda: waiting.pop(token, None), using=using)


def delete_rolled_back_files(using: str = DEFAULT_DB_ALIAS, **_signal: Any) -> int:
    """Delete the noted files whose transaction is over without committing (called when a request or task ends)."""
    if connections[using].in_atomic_block:
        return 0  # still inside a transaction (a test's, or an outer one): its end decides
    waiting = _waiting()
    deleted = 0
    for token, (storage, name) in list(waiting.items()):
        waiting.pop(token, None)
        try:
            storage.delete(name)
            deleted += 1
            logger.info("deleted %s: the transaction that wrote it rolled back", name)
        except OSError:
            logger.exception("could not delete %s left by a rolled-back transaction", name)
    return deleted


def _walk(storage: Storage, folder: str) -> list[str]:
    try:
        folders, files = storage.listdir(folder)
    except FileNotFoundError:
        return []
    found = [f"{folder}{name}" for name in files]
    for sub in folders:
        found.extend(_walk(storage, f"{folder}{sub}/"))
    return found


def orphan_files_sweep(*, now: datetime | None = None, grace: timedelta | None = None) -> list[str]:
    """Delete the files of registered folders that no row names and that are older than the grace period."""
    moment = now or timezone.now()
    keep_for = grace if grace is not None else timedelta(seconds=settings.QUJAT_ORPHAN_FILE_GRACE_SECONDS)
    deleted: list[str] = []
    for owner in _OWNERS:
        model = apps.get_model(owner.model)
        named: set[str] = set()
        for field in owner.fields:
            named.update(model._default_manager.exclude(**{field: ""}).values_list(field, flat=True))
        for name in _walk(default_storage, owner.folder):
            if name in named:
                continue
            try:
                if default_storage.get_modified_time(name) > moment - keep_for:
                    continue
                default_storage.delete(name)
            except FileNotFoundError:
                continue
            deleted.append(name)
            logger.warning("deleted %s: no %s names it", name, owner.model)
    return deleted
