"""An issued transcript as its reader sees it: the QR code and the stamps on the first page, in the area the
template reserves, over no text; every line in the document's one language; the verification page offers the
university's root certificate with instructions for Adobe Reader and Okular."""

from __future__ import annotations

import io
import re
import subprocess
from pathlib import Path

import pytest
from django.test import Client
from pypdf import PdfReader

from backend.accounts.models import User
from backend.documents.rendering import example_context
from backend.documents.services import document_generate_now
from backend.signatures import services
from backend.signatures.keyring import SigningKey, signing_key_open
from backend.signatures.models import Authority, PublishedDocument
from signing.verify import verify_pdf
from tests.conftest import user

pytestmark = [pytest.mark.django_db, pytest.mark.converter]

Box = tuple[float, float, float, float]


def key_of(username: str) -> SigningKey:
    """The signer's own key, opened with their passphrase (the demo signers' is "demo")."""
    return signing_key_open(user=user(username), passphrase="demo")


def _published(language: str) -> PublishedDocument:
    document = document_generate_now(
        kind="transcript",
        language=language,
        context=example_context(kind="transcript", language=language),
        key=f"reader-{language}",
        allocate_number=True,
    )
    return services.document_publish(document=document, holder=user("student1"), holder_public_name="Ә. Ғ. Тест")


def _read(file: object) -> bytes:
    with file.open("rb") as handle:  # type: ignore[attr-defined]
        return handle.read()


def _words(pdf: Path, page: int) -> list[tuple[str, Box]]:
    """Words of one page with their boxes in PDF points, origin bottom-left (pdftotext -bbox)."""
    html = subprocess.run(
        ["pdftotext", "-bbox", "-f", str(page), "-l", str(page), str(pdf), "-"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    height = float(re.search(r'<page width="[\d.]+" height="([\d.]+)"', html).group(1))  # type: ignore[union-attr]
    words = []
    for x1, y1, x2, y2, text in re.findall(
        r'<word xMin="([\d.]+)" yMin="([\d.]+)" xMax="([\d.]+)" yMax="([\d.]+)">([^<]*)</word>', html
    ):
        words.append((text, (float(x1), height - float(y2), float(x2), height - float(y1))))
    return words


def _stamps(pdf: bytes) -> list[tuple[int, Box]]:
    """(page index, rectangle) of every signature widget, in page order."""
    reader = PdfReader(io.BytesIO(pdf))
    found = []
    for index, page in enumerate(reader.pages):
        for reference in page.get("/Annots") or []:
            annotation = reference.get_object()
            if annotation.get("/FT") == "/Sig":
                x1, y1, x2, y2 = (float(v) for v in annotation["/Rect"])
                found.append((index, (x1, y1, x2, y2)))
    return found


def _overlap(a: Box, b: Box) -> bool:
    return a[0] < b[2] and b[0] < a[2] and a[1] < b[3] and b[1] < a[3]


def test_a_kazakh_transcript_carries_its_stamps_on_the_first_page_over_no_text_and_in_kazakh_only(
    demo: None, tmp_path: Path
) -> None:
    published = _published("kk")
    unsigned = tmp_path / "unsigned.pdf"
    unsigned.write_bytes(_read(published.document.pdf))
    services.document_sign(
        published=published, signer=user("registrar_head1"), key=key_of("registrar_head1"), language="kk"
    )
    services.document_sign(published=published, signer=user("school_dean1"), key=key_of("school_dean1"), language="kk")
    published.refresh_from_db()
    signed = _read(published.signed_pdf)
    (tmp_path / "signed.pdf").write_bytes(signed)

    stamps = _stamps(signed)
    assert [page for page, _box in stamps] == [0, 0]  # both on the first page
    first, second = stamps[0][1], stamps[1][1]
    assert not _overlap(first, second)
    text_boxes = _words(unsigned, 1)
    assert text_boxes
    for _page, box in stamps:
        assert [word for word, word_box in text_boxes if _overlap(box, word_box)] == []

    # The QR code is on the first page and reads at 150 dpi.
    subprocess.run(
        ["pdftoppm", "-r", "150", "-png", "-f", "1", "-l", "1", str(tmp_path / "signed.pdf"), str(tmp_path / "p")],
        check=True,
    )
    (image,) = tmp_path.glob("p*.png")
    decoded = subprocess.run(["zbarimg", "--quiet", "--raw", str(image)], capture_output=True, text=True).stdout.split()
    assert decoded == [services.verification_url(published)]

    # Every line in Kazakh: the positions of the signers (kept bilingual) show their Kazakh part only.
    assert " / " in user("registrar_head1").position
    text = subprocess.run(
        ["pdftotext", str(tmp_path / "signed.pdf"), "-"], capture_output=True, text=True, check=True
    ).stdout
    assert "ОР басшысы" in text
    assert "руководитель" not in text
    assert "декан школы" not in text

    assert verify_pdf(pdf=signed, trust_roots=services.trust_roots()).valid


VERIFY_PAGE = {
    "kk": ("Егер PDF оқу құралы қол қоюшыны белгісіз деп көрсетсе", "Сенімді сертификаттар"),
    "ru": ("Если программа для PDF называет подписанта неизвестным", "Доверенные сертификаты"),
    "en": ("If your PDF reader says the signer is unknown", "Trusted Certificates"),
}


def test_the_verification_page_offers_the_root_certificate_with_instructions(demo: None) -> None:
    services.pki_ensure()
    document = document_generate_now(
        kind="login_request",
        language="ru",
        context=example_context(kind="login_request", language="ru"),
        key="root-page",
    )
    published = services.document_publish(
        document=document, holder=User.objects.get(username="teacher1"), holder_public_name="Т. Т."
    )
    services.document_sign(
        published=published, signer=user("registrar_head1"), key=key_of("registrar_head1"), language="ru"
    )
    root = Authority.objects.get(kind=Authority.Kind.ROOT)
    fingerprint = ":".join(root.fingerprint.upper()[i : i + 2] for i in range(0, 64, 2))
    for language, (heading, adobe) in VERIFY_PAGE.items():
        client = Client()
        client.cookies["django_language"] = language
        body = client.get(f"/v/{published.verification_id}").content.decode()
        assert heading in body
        assert adobe in body
        assert "Okular" in body
        assert fingerprint in body

    download = Client().get("/ca/root.crt")
    assert download.status_code == 200
    assert download["Content-Type"] == "application/x-x509-ca-cert"
    assert download.content.decode() == root.certificate_pem
