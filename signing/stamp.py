"""The visible signature stamp: its text, Kazakh-capable font, QR code and layout."""

from __future__ import annotations

import datetime as dt
import functools
import io
import logging
import os
import textwrap
import zlib
from dataclasses import dataclass
from typing import Any

import segno
from fontTools import subset
from fontTools.ttLib import TTFont
from pyhanko.pdf_utils import generic, layout
from pyhanko.pdf_utils.font.opentype import GlyphAccumulator, GlyphAccumulatorFactory
from pyhanko.pdf_utils.text import TextBoxStyle
from pyhanko.pdf_utils.writer import BasePdfFileWriter, init_xobject_dictionary
from pyhanko.stamp import QRStamp, QRStampStyle, TextStamp, TextStampStyle

from signing.errors import PdfSigningError

DEFAULT_FONT_PATH = "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf"

# Kazakhstan has used a single time zone, UTC+5, since 1 March 2024; a fixed offset avoids
# depending on the tz database being installed in every container.
KAZAKHSTAN_TIME = dt.timezone(dt.timedelta(hours=5), "UTC+5")

# Stamp geometry in PDF points (1/72 in). The QR code takes the stamp's height minus the inner
# margin (90 pt ≈ 32 mm): a 114-character verification URL with the hash is a 45-module code
# (7-M), so each module is ~1.7 pt ≈ 3.5 px in a 150-dpi render, enough for zbar and phones.
STAMP_WIDTH = 262
STAMP_HEIGHT = 96
STAMP_INNER_MARGIN = 3
FONT_SIZE = 8
# Lines are wrapped by character count (DejaVu Sans at 8 pt averages ~5 pt per Cyrillic letter)
# so the text fits beside the QR code, or across the stamp without one, without being shrunk.
_WRAP_COLUMNS_BESIDE_QR = 30
_WRAP_COLUMNS_FULL_WIDTH = 50

# pyHanko formats the signing time with this; we parse it back and show it in local time, so
# the stamp shows exactly the time recorded in the signature dictionary (/M).
MACHINE_TIME_FORMAT = "%Y-%m-%dT%H:%M:%S%z"

STAMP_LABELS: dict[str, dict[str, str]] = {
    "kk": {"signed_label": "Электрондық цифрлық қолтаңбамен қол қойылды", "time_label": "Уақыты:"},
    "ru": {"signed_label": "Подписано электронной цифровой подписью", "time_label": "Время:"},
    "en": {"signed_label": "Signed with a digital signature", "time_label": "Time:"},
}

# fontTools warns about every table it cannot subset (e.g. DejaVu's FFTM), once per signature;
# the table is dropped harmlessly, so keep that noise out of the application log.
logging.getLogger("fontTools.subset").setLevel(logging.ERROR)


@dataclass(frozen=True)
class StampText:
    """What the visible signature stamp says; labels default to English, see ``for_language``."""

    signer_name: str
    position: str
    organisation: str | None = None
    signed_label: str = STAMP_LABELS["en"]["signed_label"]
    time_label: str = STAMP_LABELS["en"]["time_label"]
    time_format: str = "%d.%m.%Y %H:%M:%S %Z"
    timezone: dt.tzinfo = KAZAKHSTAN_TIME

    @classmethod
    def for_language(
        cls, *, language: str, signer_name: str, position: str, organisation: str | None = None
    ) -> StampText:
        """Stamp text with the labels of one of STAMP_LABELS' languages ("kk", "ru", "en")."""
        try:
            labels = STAMP_LABELS[language]
        except KeyError:
            known = ", ".join(sorted(STAMP_LABELS))
            raise ValueError(f"no stamp labels for language {language!r}; known: {known}") from None
        return cls(
            signer_name=signer_name,
            position=position,
            organisation=organisation,
            signed_label=labels["signed_label"],
            time_label=labels["time_label"],
        )


# What a stamp writes: names, positions and labels in Kazakh, Russian and English (Cyrillic with the Kazakh letters,
# Latin with the Kazakh Latin alphabet's), digits, punctuation, №. pyHanko loads the whole font for every
# signature and decodes its OpenType layout tables only to drop them from the embedded subset: with DejaVu Sans
# (6,000 glyphs) that was most of a signature's time. The font is cut down to these once per process instead;
# the stamp needs no layout features (Kazakh and Russian letters are whole glyphs).
_STAMP_CHARACTERS = [
    *range(0x20, 0x7F),  # Basic Latin
    *range(0xA0, 0x180),  # Latin-1 Supplement, Latin Extended-A
    *range(0x400, 0x530),  # Cyrillic, Cyrillic Supplement
    *range(0x2010, 0x2040),  # dashes, quotation marks, bullets
    0x2116,  # №
]


@functools.lru_cache(maxsize=4)
def _font_bytes(path: str) -> bytes:
    options = subset.Options()
    options.layout_features = []
    options.drop_tables += ["GSUB", "GPOS", "GDEF", "FFTM"]
    options.name_IDs = ["*"]
    options.notdef_outline = True
    font = TTFont(path)
    subsetter = subset.Subsetter(options=options)
    subsetter.populate(unicodes=_STAMP_CHARACTERS)
    subsetter.subset(font)
    out = io.BytesIO()
    font.save(out)
    return out.getvalue()


# Glyphs every stamp of a signer shares besides the letters of their name and position: the digits and signs of
# the date and time. Taking them always makes a signer's stamps one glyph set, so one subset serves them all.
_ALWAYS_EMBEDDED = "0123456789:.-/ "


@functools.lru_cache(maxsize=64)
def _font_program(path: str, glyph_ids: frozenset[int]) -> bytes:
    """The compressed subset of the stamp font with these glyphs, as pyHanko would cut it, made once per process.

    pyHanko subsets and re-serialises the font for every signature (a fifth of a signature's time); a signer's
    stamps (a batch of 60, or one person's day of signing) all have the same glyphs, so the program is cached.
    """
    font = TTFont(io.BytesIO(_font_bytes(path)))
    options = subset.Options(layout_closure=False)  # pyHanko's own subsetting options for a TrueType font
    options.drop_tables += ["GPOS", "GDEF", "GSUB"]
    options.retain_gids = True  # the content streams address glyphs by their id in the whole font
    subsetter = subset.Subsetter(options=options)
    subsetter.populate(gids=sorted(glyph_ids))
    subsetter.subset(font)
    out = io.BytesIO()
    font.save(out)
    return zlib.compress(out.getvalue())


def _embed_font_program(descriptor: generic.DictionaryObject, program: bytes, writer: BasePdfFileWriter) -> Any:
    stream = generic.StreamObject(
        {generic.NameObject("/Filter"): generic.NameObject("/FlateDecode")}, encoded_data=program
    )
    reference = writer.add_object(stream)
    descriptor[generic.NameObject("/FontFile2")] = reference
    return reference


def _number(value: int) -> generic.NumberObject:
    return generic.NumberObject(value)  # type: ignore[no-untyped-call]


class _ThousandUnitGlyphAccumulator(GlyphAccumulator):
    # pyHanko 0.38 writes glyph widths, TJ adjustments and font descriptor metrics in the font's
    # own units, but PDF expects 1/1000 em: with a 2048-unit font such as DejaVu Sans every letter
    # gets twice its width. Normalising HarfBuzz and the metrics to 1000 units fixes the layout
    # without touching the embedded font program.
    def __init__(self, *args: Any, font_path: str, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._font_path = font_path
        source_units = self.units_per_em
        self._to_thousand: float = 1000 / int(source_units)
        self.units_per_em = 1000
        self.hb_font.scale = (1000, 1000)
        descriptor = self.cidfont_obj._font_descriptor
        for key in ("/Ascent", "/Descent", "/CapHeight"):
            if key in descriptor:
                descriptor[generic.NameObject(key)] = _number(self._scaled(int(descriptor[key])))
        descriptor[generic.NameObject("/FontBBox")] = generic.ArrayObject(
            _number(self._scaled(int(v))) for v in descriptor["/FontBBox"]
        )
        cmap = self.tt.getBestCmap()
        for character in _ALWAYS_EMBEDDED:
            self._get_cid_and_width(self.tt.getGlyphID(cmap[ord(character)]))

    def _extract_subset(self, options: Any = None) -> None:
        # Instead of cutting this accumulator's font (pyHanko's way, per signature), embed the cached program.
        program = _font_program(self._font_path, frozenset(self._glyphs))
        descriptor = self.cidfont_obj._font_descriptor
        self.cidfont_obj.set_font_file = functools.partial(  # type: ignore[method-assign]
            _embed_font_program, descriptor, program
        )

    def _scaled(self, value: float) -> int:
        return round(value * self._to_thousand)

    def _get_cid_and_width(self, glyph_id: int) -> tuple[int, int]:
        cached = self._glyphs.get(glyph_id)
        if cached is not None:
            return cached
        cid, width = super()._get_cid_and_width(glyph_id)
        result = int(cid), self._scaled(width)
        self._glyphs[glyph_id] = result
        return result


@dataclass(frozen=True)
class _FontFactory(GlyphAccumulatorFactory):
    def create_font_engine(self, writer: BasePdfFileWriter, obj_stream: Any = None) -> GlyphAccumulator:
        if obj_stream is None and writer.stream_xrefs and self.create_objstream_if_needed:
            obj_stream = writer.prepare_object_stream()  # type: ignore[no-untyped-call]
        return _ThousandUnitGlyphAccumulator(
            writer=writer,
            font_handle=io.BytesIO(_font_bytes(self.font_file)),
            font_path=self.font_file,
            font_size=self.font_size,
            obj_stream=obj_stream,
        )


class _SegnoQRStamp(QRStamp):
    # pyHanko draws QR codes with the optional `qrcode` package, which we do not install; segno
    # (already a dependency) provides the module matrix and we draw it as filled rectangles.
    def _qr_xobject(self) -> tuple[generic.IndirectObject, int]:
        border = 4
        qr = segno.make(self.url, error="m", micro=False)
        size = int(qr.symbol_size(scale=1, border=border)[0])
        commands = [b"0 0 0 rg"]
        for row_index, row in enumerate(qr.matrix_iter(scale=1, border=border)):
            y = size - row_index - 1
            cells = list(row)
            column = 0
            while column < size:
                if not cells[column]:
                    column += 1
                    continue
                start = column
                while column < size and cells[column]:
                    column += 1
                # One rectangle per horizontal run keeps the stream small.
                commands.append(b"%d %d %d 1 re" % (start, y, column - start))
        commands.append(b"f")
        xobject = init_xobject_dictionary(b"\n".join(commands), size, size)
        xobject.compress()  # type: ignore[no-untyped-call]
        writer = self.writer
        if writer is None:
            raise PdfSigningError("QR stamp has no PDF writer")
        return writer.add_object(xobject), size


def _localise_time(text_params: dict[str, Any], time_format: str, timezone: dt.tzinfo) -> dict[str, Any]:
    params = dict(text_params)
    moment = dt.datetime.fromisoformat(params["ts"])
    params["ts"] = moment.astimezone(timezone).strftime(time_format)
    return params


@dataclass(frozen=True)
class _TextStyle(TextStampStyle):
    display_time_format: str = StampText.time_format
    display_timezone: dt.tzinfo = KAZAKHSTAN_TIME

    def create_stamp(
        self, writer: BasePdfFileWriter, box: layout.BoxConstraints, text_params: dict[str, Any]
    ) -> TextStamp:
        params = _localise_time(text_params, self.display_time_format, self.display_timezone)
        return TextStamp(writer=writer, style=self, box=box, text_params=params)


@dataclass(frozen=True)
class _QRStyle(QRStampStyle):
    display_time_format: str = StampText.time_format
    display_timezone: dt.tzinfo = KAZAKHSTAN_TIME

    def create_stamp(
        self, writer: BasePdfFileWriter, box: layout.BoxConstraints, text_params: dict[str, Any]
    ) -> QRStamp:
        params = _localise_time(text_params, self.display_time_format, self.display_timezone)
        url = params.pop("url")
        return _SegnoQRStamp(writer, style=self, url=url, text_params=params, box=box)


def stamp_text_params(*, stamp: StampText, qr_url: str | None) -> tuple[str, dict[str, str]]:
    """The stamp template and its values (values never go through %-formatting themselves)."""

    columns = _WRAP_COLUMNS_FULL_WIDTH if qr_url is None else _WRAP_COLUMNS_BESIDE_QR

    def wrap(value: str) -> str:
        return "\n".join(textwrap.wrap(value, width=columns)) or value

    params = {
        "signed_label": wrap(stamp.signed_label),
        "signer_name": wrap(stamp.signer_name),
        "position": wrap(stamp.position),
        "time_label": stamp.time_label,
    }
    lines = ["%(signed_label)s", "%(signer_name)s", "%(position)s"]
    if stamp.organisation:
        params["organisation"] = wrap(stamp.organisation)
        lines.append("%(organisation)s")
    lines.append("%(time_label)s %(ts)s")
    if qr_url is not None:
        params["url"] = qr_url
    return "\n".join(lines), params


def stamp_style(*, stamp: StampText, template: str, qr_url: str | None, font_path: str) -> TextStampStyle:
    """A pyHanko stamp style drawing the template in the given TrueType font, with a QR code if asked."""
    if not os.path.isfile(font_path):
        raise PdfSigningError(f"stamp font not found: {font_path} (install fonts-dejavu or pass font_path)")
    text_box_style = TextBoxStyle(
        font=_FontFactory(font_path, font_size=FONT_SIZE),
        font_size=FONT_SIZE,
        # pyHanko's default 10 pt text margin would push the stamp into shrinking, QR code included.
        box_layout_rule=layout.SimpleBoxLayoutRule(
            x_align=layout.AxisAlignment.ALIGN_MIN,
            y_align=layout.AxisAlignment.ALIGN_MID,
            margins=layout.Margins.uniform(STAMP_INNER_MARGIN),  # type: ignore[no-untyped-call]
        ),
    )
    common: dict[str, Any] = {
        "stamp_text": template,
        "text_box_style": text_box_style,
        "timestamp_format": MACHINE_TIME_FORMAT,
        "display_time_format": stamp.time_format,
        "display_timezone": stamp.timezone,
        "border_width": 1,
        "background": None,
    }
    if qr_url is None:
        return _TextStyle(**common)
    return _QRStyle(innsep=STAMP_INNER_MARGIN, qr_inner_size=STAMP_HEIGHT - 2 * STAMP_INNER_MARGIN, **common)
