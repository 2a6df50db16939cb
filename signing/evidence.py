"""Evidence packages: a case's files in a ZIP, a manifest of their SHA-256 signed (CMS, detached) by the university.

Layout of a package:

- ``manifest.txt``: one line per file, ``<sha256>  <path>`` (the format of ``sha256sum``, so ``sha256sum -c``
  checks it too); ``manifest.txt.p7s``: the detached CMS over ``manifest.txt``.
- ``process.bpmn``: the BPMN XML of the version the case ran on.
- ``history.json``: the case's events with their hash chain and the anchor (count and last hash).
- ``documents/*.pdf``: the signed PDFs (each checked for valid signatures); ``unsigned/*.pdf``: documents of the
  case nobody signs (an explanatory note), covered by the manifest only.

`event_hash` is the one definition of a history event's hash: the product writes the chain with it and the
offline check recomputes it.
"""

from __future__ import annotations

import hashlib
import io
import json
import zipfile
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from cryptography import x509

from signing.cms import sign_detached, verify_detached
from signing.keys import Credential
from signing.verify import verify_pdf

GENESIS = "0" * 64
MANIFEST = "manifest.txt"
SIGNATURE = "manifest.txt.p7s"
HISTORY = "history.json"


def canonical_json(value: Any) -> str:
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


# canonical_json's encoder, made once: json.dumps makes the same one on every call.
_CANONICAL = json.JSONEncoder(sort_keys=True, separators=(",", ":"), ensure_ascii=False)
_string = json.encoder.encode_basestring  # what that encoder writes a string with (ensure_ascii=False)


def event_hash(*, instance_id: int, seq: int, kind: str, actor_id: int | None, at: str, payload: Any, prev: str) -> str:
    """The SHA-256 of one history event; `at` is its UTC time as ISO 8601 with microseconds.

    What is hashed is canonical_json of the event's object (its seven keys sorted). With the types the product
    writes (whole numbers, strings) that text is put together here around the payload's own canonical JSON,
    which is byte for byte what canonical_json writes (tests/signing/test_evidence_hash.py): the chain check
    of a case's page recomputes hundreds of these. Any other value goes through canonical_json itself.
    """
    if (
        type(instance_id) is int
        and type(seq) is int
        and (actor_id is None or type(actor_id) is int)
        and type(kind) is str
        and type(at) is str
        and type(prev) is str
    ):
        actor = "null" if actor_id is None else str(actor_id)
        text = (
            f'{{"actor":{actor},"at":{_string(at)},"instance":{instance_id},"kind":{_string(kind)},'
            f'"payload":{_CANONICAL.encode(payload)},"prev":{_string(prev)},"seq":{seq}}}'
        )
        return hashlib.sha256(text.encode()).hexdigest()
    body = {
        "instance": instance_id,
        "seq": seq,
        "kind": kind,
        "actor": actor_id,
        "at": at,
        "payload": payload,
        "prev": prev,
    }
    return hashlib.sha256(canonical_json(body).encode()).hexdigest()


def build_package(*, files: Sequence[tuple[str, bytes]], credential: Credential) -> bytes:
    """The ZIP of `files` (path, content) with their manifest and its detached signature."""
    paths = [path for path, _ in files]
    if len(set(paths)) != len(paths) or any(p in (MANIFEST, SIGNATURE) for p in paths):
        raise ValueError("file paths must be unique and must not be the manifest's")
    manifest = "".join(f"{hashlib.sha256(content).hexdigest()}  {path}\n" for path, content in files).encode()
    signature = sign_detached(data=manifest, credential=credential)
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        archive.writestr(MANIFEST, manifest)
        archive.writestr(SIGNATURE, signature)
        for path, content in files:
            archive.writestr(path, content)
    return buffer.getvalue()


@dataclass(frozen=True)
class EvidenceVerdict:
    valid: bool
    problem: str  # the first thing that does not match; empty when valid
    checked: tuple[str, ...]  # what was checked, in order, for the report


def _chain_problem(history: dict[str, Any]) -> str | None:
    """The first event whose hash or link does not hold, checked against the anchor too."""
    instance_id = history.get("instance_id")
    events = history.get("events")
    anchor = history.get("anchor") or {}
    if not isinstance(instance_id, int) or not isinstance(events, list):
        return f"{HISTORY}: not a case history"
    prev = GENESIS
    for expected, event in enumerate(events, start=1):
        if not isinstance(event, dict):
            return f"{HISTORY}: event {expected} is not an object"
        seq = event.get("seq")
        if seq != expected:
            return f"{HISTORY}: event {expected} is missing (found event {seq} in its place)"
        if event.get("prev_hash") != prev:
            return f"{HISTORY}: event {seq} does not link to the previous event"
        recomputed = event_hash(
            instance_id=instance_id,
            seq=seq,
            kind=str(event.get("kind")),
            actor_id=event.get("actor_id"),
            at=str(event.get("at")),
            payload=event.get("payload"),
            prev=prev,
        )
        if recomputed != event.get("hash"):
            return f"{HISTORY}: event {seq} was changed (its content does not match its hash)"
        prev = recomputed
    count, head = anchor.get("count"), anchor.get("head")
    if count != len(events):
        return f"{HISTORY}: the case records {count} events, the history holds {len(events)}"
    if head != prev:
        return f"{HISTORY}: the last event is not the one the case records"
    return None


def verify_package(data: bytes, *, trust_roots: Sequence[x509.Certificate]) -> EvidenceVerdict:
    """Check a package offline: the manifest's signature, every file's hash, the history chain, each PDF."""
    checked: list[str] = []

    def refuse(problem: str) -> EvidenceVerdict:
        return EvidenceVerdict(False, problem, tuple(checked))

    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
        names = archive.namelist()
        contents = {name: archive.read(name) for name in names}
    except (zipfile.BadZipFile, OSError, ValueError) as exc:
        return refuse(f"not a readable ZIP: {exc}")
    if len(set(names)) != len(names):
        return refuse("the ZIP holds two files with the same name")
    if MANIFEST not in contents or SIGNATURE not in contents:
        return refuse(f"{MANIFEST} or {SIGNATURE} is missing")
    manifest = contents[MANIFEST]
    verdict = verify_detached(cms=contents[SIGNATURE], content=manifest, trust_roots=trust_roots)
    if not verdict.valid:
        return refuse(f"{MANIFEST}: the signature does not verify: {'; '.join(verdict.problems)}")
    signer = verdict.signer.subject_common_name if verdict.signer else "?"
    checked.append(f"{MANIFEST}: signed by {signer}")
    listed: dict[str, str] = {}
    for number, line in enumerate(manifest.decode("utf-8", "replace").splitlines(), start=1):
        digest, separator, path = line.partition("  ")
        if not separator or len(digest) != 64 or not path:
            return refuse(f"{MANIFEST}: line {number} is not '<sha256>  <path>'")
        listed[path] = digest
    for path, digest in listed.items():
        if path not in contents:
            return refuse(f"{path}: listed in the manifest but missing from the ZIP")
        if hashlib.sha256(contents[path]).hexdigest() != digest:
            return refuse(f"{path}: its SHA-256 does not match the manifest")
        checked.append(f"{path}: SHA-256 matches")
    for name in names:
        if name not in listed and name not in (MANIFEST, SIGNATURE):
            return refuse(f"{name}: in the ZIP but not in the manifest")
    if HISTORY not in listed:
        return refuse(f"{HISTORY} is missing")
    try:
        history = json.loads(contents[HISTORY])
    except ValueError:
        return refuse(f"{HISTORY}: not JSON")
    problem = _chain_problem(history if isinstance(history, dict) else {})
    if problem:
        return refuse(problem)
    checked.append(f"{HISTORY}: {len(history['events'])} events, chain intact")
    for path in listed:
        if path.startswith("documents/") and path.lower().endswith(".pdf"):
            pdf = verify_pdf(pdf=contents[path], trust_roots=trust_roots)
            if not pdf.valid:
                problems = list(pdf.problems) + [p for s in pdf.signatures for p in s.problems]
                return refuse(f"{path}: the PDF's signatures do not verify: {'; '.join(problems) or 'no signature'}")
            checked.append(f"{path}: {len(pdf.signatures)} valid signature(s)")
    return EvidenceVerdict(True, "", tuple(checked))
