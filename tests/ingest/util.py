"""Helpers for the ingest tests."""

from __future__ import annotations

import io
from typing import Any

from gmina.ingest import CsvProfile, ParsedBatch, read_csv


def collect(batches: list[ParsedBatch]) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """All readings and all rejections of ``batches`` as Python rows."""
    readings: list[dict[str, Any]] = []
    rejections: list[dict[str, Any]] = []
    for batch in batches:
        readings.extend(batch.readings.to_pylist())
        rejections.extend(batch.rejections.to_pylist())
    return readings, rejections


def parse_bytes(data: bytes, profile: CsvProfile, **kwargs: Any) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """read_csv over in-memory bytes, collected."""
    return collect(list(read_csv(io.BytesIO(data), profile, **kwargs)))


class PipeReader(io.RawIOBase):
    """A non-seekable binary stream (like a pipe or an upload) over ``data``, read in small pieces."""

    def __init__(self, data: bytes, piece: int = 7) -> None:
        self._data = data
        self._pos = 0
        self._piece = piece

    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return False

    def readinto(self, buffer: Any) -> int:
        size = min(len(buffer), self._piece, len(self._data) - self._pos)
        buffer[:size] = self._data[self._pos : self._pos + size]
        self._pos += size
        return size
