"""Character sets of CSV exports (reference §4.2 steps 1-2): BOM, strict UTF-8, CP1250 vs ISO-8859-2.

:class:`ByteScanner` looks at the whole file (or, for a stream that cannot seek, its first block) and
:func:`decide_charset` settles the charset or refuses the file. :class:`Transcoder` then turns raw
blocks into UTF-8 for pyarrow, refusing the file at the first byte that does not decode.

Positions in :class:`~gmina.ingest.schema.FileRejected` are the 1-based line and the 1-based **byte**
column of the first offending byte.
"""

from __future__ import annotations

import codecs
import re
from dataclasses import dataclass, field

from gmina.ingest.schema import FileRejected

UTF8 = "utf-8"
CP1250 = "cp1250"
ISO_8859_2 = "iso-8859-2"
UTF16LE = "utf-16-le"
UTF16BE = "utf-16-be"
KNOWN = (UTF8, CP1250, ISO_8859_2, UTF16LE, UTF16BE)
_ALIASES = {
    "utf8": UTF8,
    "utf-8": UTF8,
    "utf-8-sig": UTF8,
    "cp1250": CP1250,
    "windows-1250": CP1250,
    "iso-8859-2": ISO_8859_2,
    "iso8859-2": ISO_8859_2,
    "latin2": ISO_8859_2,
    "latin-2": ISO_8859_2,
    "utf-16-le": UTF16LE,
    "utf-16le": UTF16LE,
    "utf-16-be": UTF16BE,
    "utf-16be": UTF16BE,
}
_BOMS = ((codecs.BOM_UTF8, UTF8), (codecs.BOM_UTF16_LE, UTF16LE), (codecs.BOM_UTF16_BE, UTF16BE))

# Letter evidence (§4.2 table, extended with Ą/ą for CP1250 and Ą/Ś/Ź for ISO-8859-2):
_CP1250_ONLY = b"\x8c\x8f\x9c\x9f\xa5\xb9"  # Ś Ź ś ź Ą ą in CP1250; C1 controls, Ľ, š in ISO-8859-2
_ISO_ONLY = b"\xa1\xa6\xac\xb1\xb6\xbc"  # Ą Ś Ź ą ś ź in ISO-8859-2; ˇ ¦ ¬ ± ¶ Ľ in CP1250
_CP1250_UNDEFINED = b"\x81\x83\x88\x90\x98"
_C1 = bytes(range(0x80, 0xA0))
_UTF8_LEADS = b"\xc3\xc4\xc5"
_UTF8_POLISH = re.compile(rb"\xc4[\x84-\x87\x98\x99]|\xc5[\x81-\x84\x9a\x9b\xb9-\xbc]|\xc3[\x93\xb3]")


def first_of(data: bytes, byteset: bytes) -> int:
    """Index of the first byte of ``data`` that is in ``byteset``, or -1 (memchr/translate fast).

    >>> first_of(b"abc\\x9cd", _CP1250_ONLY), first_of(b"abc", _CP1250_ONLY)
    (3, -1)
    """
    if len(byteset) > 8:
        keep = data.translate(None, _complement(byteset))
        if not keep:
            return -1
        return min(i for i in (data.find(b) for b in set(keep)) if i >= 0)
    found = [i for i in (data.find(bytes([b])) for b in byteset) if i >= 0]
    return min(found) if found else -1


def _complement(byteset: bytes) -> bytes:
    return bytes(b for b in range(256) if b not in byteset)


def normalise_charset(name: str) -> str:
    """Canonical codec name for a declared encoding.

    >>> normalise_charset("Windows-1250"), normalise_charset("UTF8")
    ('cp1250', 'utf-8')
    """
    key = name.strip().lower().replace("_", "-")
    if key not in _ALIASES:
        raise ValueError(f"unsupported encoding {name!r}; use one of {', '.join(KNOWN)}")
    return _ALIASES[key]


def detect_bom(head: bytes) -> tuple[str | None, int]:
    """(charset, BOM length) if ``head`` starts with a byte-order mark.

    >>> detect_bom(b"\\xef\\xbb\\xbfNr;Stan"), detect_bom(b"Nr;Stan")
    (('utf-8', 3), (None, 0))
    """
    for bom, charset in _BOMS:
        if head.startswith(bom):
            return charset, len(bom)
    return None, 0


@dataclass(frozen=True)
class Position:
    """1-based line and byte column of a byte in the file."""

    line: int
    column: int
    byte: int


@dataclass
class _Tracker:
    """Line/column bookkeeping over consecutive raw blocks."""

    line: int = 1  # line of the first byte of the next block
    column: int = 1  # column of the first byte of the next block

    def locate(self, data: bytes, pos: int) -> Position:
        last_nl = data.rfind(b"\n", 0, pos)
        line = self.line + data.count(b"\n", 0, pos)
        column = pos - last_nl if last_nl >= 0 else self.column + pos
        return Position(line, column, data[pos])

    def advance(self, data: bytes) -> None:
        newlines = data.count(b"\n")
        if newlines:
            self.line += newlines
            self.column = len(data) - data.rfind(b"\n")
        else:
            self.column += len(data)


@dataclass
class ByteScanner:
    """Evidence for :func:`decide_charset`, gathered block by block."""

    tracker: _Tracker = field(default_factory=_Tracker)
    utf8_error: Position | None = None
    utf8_polish: bool = False
    cp1250_evidence: Position | None = None
    iso_evidence: Position | None = None
    cp1250_undefined: Position | None = None
    c1_control: Position | None = None
    _carry: bytes = b""

    def feed(self, block: bytes, *, final: bool = False) -> None:
        """Scan the next raw block (without BOM)."""
        if self.utf8_error is None and not (not self._carry and block.isascii()):
            data = self._carry + block
            try:
                _, consumed = codecs.utf_8_decode(data, "strict", final)
                self._carry = data[consumed:]
            except UnicodeDecodeError as exc:
                offset = exc.start - len(self._carry)
                self.utf8_error = self._locate_any(block, offset)
                self._carry = b""
        if not block.isascii():
            if not self.utf8_polish and first_of(block, _UTF8_LEADS) >= 0:
                self.utf8_polish = _UTF8_POLISH.search(block) is not None
            self.cp1250_evidence = self.cp1250_evidence or self._first(_CP1250_ONLY, block)
            self.iso_evidence = self.iso_evidence or self._first(_ISO_ONLY, block)
            self.cp1250_undefined = self.cp1250_undefined or self._first(_CP1250_UNDEFINED, block)
            self.c1_control = self.c1_control or self._first(_C1, block)
        self.tracker.advance(block)

    def _first(self, byteset: bytes, block: bytes) -> Position | None:
        index = first_of(block, byteset)
        return None if index < 0 else self.tracker.locate(block, index)

    def _locate_any(self, block: bytes, offset: int) -> Position:
        if offset >= 0:
            return self.tracker.locate(block, offset)
        return Position(self.tracker.line, max(1, self.tracker.column + offset), self._carry[offset])


def decide_charset(scan: ByteScanner, declared: str | None) -> str:
    """The charset to decode with, or :class:`FileRejected` for undecodable and mixed files."""
    if declared == UTF8 or (declared is None and scan.utf8_error is None):
        if scan.utf8_error is not None:
            _reject(scan.utf8_error, "the file is not valid UTF-8")
        return UTF8
    if declared is None:
        assert scan.utf8_error is not None
        if scan.utf8_polish:
            _reject(scan.utf8_error, "mixed encodings: UTF-8 Polish letters and bytes that are not UTF-8")
        if scan.cp1250_evidence and scan.iso_evidence:
            later = max(scan.cp1250_evidence, scan.iso_evidence, key=lambda p: (p.line, p.column))
            _reject(later, "mixed encodings: both CP1250-only and ISO-8859-2-only letters")
        declared = ISO_8859_2 if scan.iso_evidence else CP1250
        if declared == ISO_8859_2 and scan.c1_control is not None:
            _reject(scan.c1_control, "control byte in an ISO-8859-2 file (mixed encodings?)")
    if declared == CP1250 and scan.cp1250_undefined is not None:
        _reject(scan.cp1250_undefined, "byte undefined in CP1250")
    return declared


def _reject(where: Position, message: str) -> None:
    raise FileRejected(f"{message} (byte 0x{where.byte:02X})", line=where.line, column=where.column)


class Transcoder:
    """Raw blocks in ``charset`` → UTF-8 bytes; :class:`FileRejected` at the first undecodable byte."""

    def __init__(self, charset: str, *, validated: bool = False) -> None:
        self.charset = charset
        self.validated = validated  # the whole input was scanned already: skip checks and positions
        self._tracker = _Tracker()
        self._carry = b""
        self._decoder = codecs.getincrementaldecoder(charset)("strict")

    def feed(self, block: bytes, *, final: bool = False) -> bytes:
        """Transcode the next raw block; returns complete UTF-8 characters only."""
        if self.charset == UTF8:
            return block if self.validated else self._feed_utf8(block, final)
        if self.validated:
            return self._decoder.decode(block, final).encode("utf-8")
        try:
            text = self._decoder.decode(block, final)
        except UnicodeDecodeError as exc:
            where = self._tracker.locate(block, max(0, min(exc.start, len(block) - 1)))
            _reject(where, f"the file is not valid {self.charset}")
        if self.charset == ISO_8859_2:
            control = first_of(block, _C1)
            if control >= 0:
                _reject(self._tracker.locate(block, control), "control byte in an ISO-8859-2 file")
        self._tracker.advance(block)
        return text.encode("utf-8")

    def _feed_utf8(self, block: bytes, final: bool) -> bytes:
        data = self._carry + block if self._carry else block
        if data.isascii():
            self._carry = b""
            self._tracker.advance(block)
            return data
        try:
            _, consumed = codecs.utf_8_decode(data, "strict", final)
        except UnicodeDecodeError as exc:
            offset = exc.start - len(self._carry)
            where = (
                self._tracker.locate(block, offset)
                if offset >= 0
                else Position(self._tracker.line, self._tracker.column, data[exc.start])
            )
            _reject(where, "the file is not valid UTF-8")
        self._carry = data[consumed:]
        self._tracker.advance(block)
        return data[:consumed]
