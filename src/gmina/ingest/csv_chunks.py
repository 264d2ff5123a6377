"""Streaming a CSV source as UTF-8 chunks of whole records, with their physical line numbers.

Memory stays bounded by a few chunks whatever the file size. A chunk ends at a newline outside quotes
(judged by the parity of ``"`` in the chunk), so a quoted field may contain the delimiter or a newline.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator
from dataclasses import dataclass
from typing import BinaryIO

from gmina.ingest.charsets import (
    UTF16BE,
    UTF16LE,
    ByteScanner,
    Transcoder,
    decide_charset,
    detect_bom,
    normalise_charset,
)
from gmina.ingest.schema import FileRejected

Source = BinaryIO | str | os.PathLike[str]
RAW_BLOCK = 1 << 20
MAX_RECORD_BYTES = 64 << 20  # a single record (line) larger than this refuses the file


@dataclass(frozen=True)
class Chunk:
    """Whole records in UTF-8 (ending with a newline unless the file does not)."""

    data: bytes
    first_line: int  # physical line number of the first line of ``data``
    line_count: int  # physical lines in ``data``
    raw_bytes: int  # source bytes consumed so far (for progress reporting)


@contextlib.contextmanager
def open_source(source: Source) -> Iterator[BinaryIO]:
    """Open a path, or pass a binary file object through (not closing it)."""
    if isinstance(source, str | os.PathLike):
        with open(source, "rb") as handle:
            yield handle
    else:
        yield source


def utf8_blocks(handle: BinaryIO, declared: str | None, block_size: int | None = None) -> Iterator[tuple[bytes, int]]:
    """(UTF-8 bytes, raw bytes consumed) per block, after settling the charset.

    A seekable source is scanned completely first, so encoding problems refuse the file before any
    record is parsed; a pipe is judged on its first block and refused mid-stream if a later block
    does not decode.
    """
    block_size = block_size or RAW_BLOCK
    seekable = _seekable(handle)
    start = handle.tell() if seekable else 0
    first = _read_full(handle, block_size)
    bom_charset, bom_length = detect_bom(first)
    first = first[bom_length:]
    charset = bom_charset or (normalise_charset(declared) if declared else None)
    if charset not in (UTF16LE, UTF16BE):
        scanner = ByteScanner()
        scanner.feed(first, final=not first)
        if seekable:
            while block := handle.read(block_size):
                scanner.feed(block)
            scanner.feed(b"", final=True)
            handle.seek(start + bom_length)
            first = _read_full(handle, block_size)
        charset = decide_charset(scanner, charset)
    assert charset is not None
    transcoder = Transcoder(charset, validated=seekable and charset not in (UTF16LE, UTF16BE))
    consumed = bom_length + len(first)
    block = first
    while True:
        following = handle.read(block_size)
        yield transcoder.feed(block, final=not following), consumed
        if not following:
            return
        consumed += len(following)
        block = following


def _read_full(handle: BinaryIO, size: int) -> bytes:
    """Up to ``size`` bytes, fewer only at the end of the stream (raw streams may return short reads)."""
    parts, total = [], 0
    while total < size:
        part = handle.read(size - total)
        if not part:
            break
        parts.append(part)
        total += len(part)
    return b"".join(parts)


def _seekable(handle: BinaryIO) -> bool:
    try:
        return handle.seekable()
    except (AttributeError, OSError, ValueError):
        return False


class RecordChunker:
    """Splits a stream of UTF-8 blocks into chunks of whole records."""

    def __init__(self, blocks: Iterator[tuple[bytes, int]]) -> None:
        self._blocks = blocks
        self._pending: list[bytes] = []
        self._pending_size = 0
        self._raw = 0
        self._eof = False
        self.next_line = 1

    def _fill(self, size: int) -> None:
        while not self._eof and self._pending_size < size:
            try:
                block, self._raw = next(self._blocks)
            except StopIteration:
                self._eof = True
                break
            if block:
                self._pending.append(block)
                self._pending_size += len(block)

    def _joined(self) -> bytes:
        if len(self._pending) != 1:
            self._pending = [b"".join(self._pending)]
        return self._pending[0] if self._pending else b""

    def peek(self, size: int) -> bytes:
        """At least ``size`` bytes from the current position (fewer at the end of the file)."""
        self._fill(size)
        return self._joined()[:size]

    def read_line(self) -> bytes | None:
        """The next physical line without its line ending (None at the end of the file)."""
        while True:
            data = self._joined()
            end = data.find(b"\n")
            if end >= 0 or self._eof:
                break
            if len(data) > MAX_RECORD_BYTES:
                raise FileRejected("line too long (over 64 MiB)", line=self.next_line)
            self._fill(len(data) + RAW_BLOCK)
        if not data:
            return None
        line, rest = (data[:end], data[end + 1 :]) if end >= 0 else (data, b"")
        self._pending, self._pending_size = [rest], len(rest)
        self.next_line += 1
        return line.rstrip(b"\r")

    def read_chunk(self, target: int) -> Chunk | None:
        """About ``target`` bytes of whole records (more if one record is longer), None at the end."""
        window = max(target, 1)
        while True:
            self._fill(window + 1)
            data = self._joined()
            if not data:
                return None
            if self._eof and len(data) <= window:
                split = len(data)
            else:
                split = data.rfind(b"\n", 0, window) + 1
                if split == 0 or _inside_quotes(data, split):
                    if window < MAX_RECORD_BYTES + target:
                        window *= 2
                        continue
                    if split == 0:
                        raise FileRejected("record too long (over 64 MiB)", line=self.next_line)
                    # an odd number of quotes over 64 MiB: a stray quote, not a quoted field; split here
            chunk, rest = data[:split], data[split:]
            self._pending, self._pending_size = [rest], len(rest)
            lines = chunk.count(b"\n") + (0 if chunk.endswith(b"\n") else 1)
            result = Chunk(chunk, self.next_line, lines, self._raw)
            self.next_line += lines
            return result


def _inside_quotes(data: bytes, split: int) -> bool:
    """True if ``data[:split]`` holds an odd number of quote characters (so it ends inside a field)."""
    return data.find(b'"', 0, split) >= 0 and data.count(b'"', 0, split) % 2 == 1
