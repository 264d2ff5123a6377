"""Streaming CSV import: any file size in constant memory, vectorised normalisation with pyarrow.

:func:`read_csv` yields one :class:`~gmina.ingest.schema.ParsedBatch` per chunk of about ``batch_rows``
records. File-level problems raise :class:`~gmina.ingest.schema.FileRejected`:

* encoding problems (undecodable byte, mixed CP1250/ISO-8859-2/UTF-8): before anything is yielded when
  the source can seek (it is scanned first), otherwise when the bad block is reached;
* an empty file or missing required header columns: before anything is yielded (line 1);
* a record with the wrong number of fields: when its chunk is parsed, which may be after earlier
  batches were yielded. The store imports a file in one transaction, so nothing is half-imported.

Line numbers are 1-based physical lines (the header is line 1). A quoted field may contain a newline;
the record is then numbered by its first line and ``raw`` holds all its lines. Blank lines are skipped
but counted. ``raw`` is the exact text of the record's line(s), decoded to UTF-8, without the line ending.
Limitation: in a chunk where pyarrow and Python's ``csv`` module disagree on record boundaries (only
with malformed quoting, e.g. a stray ``"`` inside an unquoted field together with a quoted newline),
records are numbered as if each took one line.

Batches hold about ``batch_rows`` records (the chunk size is estimated from the first 64 KiB); Python
memory stays around four chunks, whatever the file size.
"""

from __future__ import annotations

import csv
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass

import pyarrow as pa
import pyarrow.csv as pcsv

from gmina.ingest.csv_chunks import Chunk, RecordChunker, Source, open_source, utf8_blocks
from gmina.ingest.csv_normalise import ChunkNormaliser, Layout, RecordText
from gmina.ingest.csv_profiles import FIELDS, CsvProfile, fold_header
from gmina.ingest.schema import FileRejected, ParsedBatch

_DELIMITERS = (";", "\t", ",", "|")
_QUOTED = re.compile(r'"[^"]*"')


def read_csv(
    source: Source,
    profile: CsvProfile,
    *,
    batch_rows: int = 200_000,
    on_progress: Callable[[int], None] | None = None,
) -> Iterator[ParsedBatch]:
    """Parse a CSV export with ``profile``; yields batches of about ``batch_rows`` records.

    ``source`` is a path or a binary file object (not closed here). ``on_progress`` is called after each
    chunk with the number of source bytes consumed so far.
    """
    if batch_rows < 1:
        raise ValueError("batch_rows must be positive")
    with open_source(source) as handle:
        chunker = RecordChunker(utf8_blocks(handle, profile.encoding))
        layout = _layout(chunker, profile)
        if layout is None:
            return
        target = _target_bytes(chunker, batch_rows)
        normaliser = ChunkNormaliser(layout, profile)
        while (chunk := chunker.read_chunk(target)) is not None:
            batch = normaliser.normalise(chunk, _parse_chunk(chunk, layout))
            if on_progress is not None:
                on_progress(chunk.raw_bytes)
            if batch.readings.num_rows or batch.rejections.num_rows:
                yield batch


def _layout(chunker: RecordChunker, profile: CsvProfile) -> Layout | None:
    if profile.has_header:
        header = chunker.read_line()
        if header is None or not header.strip():
            raise FileRejected("missing header: the first line is empty", line=1)
        text = header.decode("utf-8")
        delimiter = profile.delimiter or _sniff_delimiter([text, *_sample_lines(chunker)])
        names = _split(text, delimiter)
        return _match_header(names, profile, delimiter)
    sample = _sample_lines(chunker)
    if not sample:
        return None
    delimiter = profile.delimiter or _sniff_delimiter(sample)
    count = len(_split(sample[0], delimiter))
    index = dict(profile.positions)
    needed = max(index.values()) + 1
    if count < needed:
        raise FileRejected(f"expected at least {needed} fields, found {count}", line=1)
    names = [f"column {i + 1}" for i in range(count)]
    for name, position in index.items():
        names[position] = name
    unit = profile.volume_unit or "m3"
    return Layout(delimiter, names, index, unit, profile.null_values)


def _match_header(names: list[str], profile: CsvProfile, delimiter: str) -> Layout:
    folded = [fold_header(n) for n in names]
    index: dict[str, int] = {}
    for name in FIELDS:
        for alias in profile.aliases(name):
            hits = [i for i, (f, _) in enumerate(folded) if f == alias and i not in index.values()]
            if hits:
                index[name] = hits[0]
                break
    missing = [f for f in ("observed_at", "index") if f not in index]
    if "meter_serial" not in index and "device_key" not in index:
        missing.insert(0, "meter_serial or device_key")
    if missing:
        wanted = "; ".join(f"{m} (one of: {', '.join(_aliases_for(m, profile))})" for m in missing)
        raise FileRejected(f"missing required column(s): {wanted}; found: {', '.join(names)}", line=1)
    hint = folded[index["index"]][1]
    if hint and profile.volume_unit and hint != profile.volume_unit:
        column = names[index["index"]]
        raise FileRejected(
            f"column {column!r} says {hint} but profile {profile.name!r} says {profile.volume_unit}",
            line=1,
            column=index["index"] + 1,
        )
    return Layout(delimiter, names, index, profile.volume_unit or hint or "m3", profile.null_values)


def _aliases_for(field: str, profile: CsvProfile) -> list[str]:
    if field == "meter_serial or device_key":
        return [*profile.aliases("meter_serial")[:3], *profile.aliases("device_key")[:3]]
    return list(profile.aliases(field)[:6])


def _sample_lines(chunker: RecordChunker) -> list[str]:
    sample = chunker.peek(1 << 16).decode("utf-8", "replace")
    return [line.rstrip("\r") for line in sample.split("\n")[:20] if line.strip()]


def _sniff_delimiter(lines: list[str]) -> str:
    """Reference §4.2 step 3: the candidate found the same number of times on every line; ``;`` first."""
    counts = {d: [_QUOTED.sub("", line).count(d) for line in lines] for d in _DELIMITERS}
    consistent = [d for d in _DELIMITERS if counts[d] and counts[d][0] > 0 and len(set(counts[d])) == 1]
    if consistent:
        return consistent[0]
    best = max(_DELIMITERS, key=lambda d: (counts[d][0] if counts[d] else 0, -_DELIMITERS.index(d)))
    return best


def _split(line: str, delimiter: str) -> list[str]:
    """The fields of the first line (the header, or the first record of a header-less file)."""
    try:
        return next(csv.reader([line], delimiter=delimiter, quotechar='"'), [])
    except csv.Error as exc:
        raise FileRejected(f"line 1 is not valid CSV: {exc}", line=1) from None


def _target_bytes(chunker: RecordChunker, batch_rows: int) -> int:
    sample = chunker.peek(1 << 16)
    lines = sample.count(b"\n")
    per_row = len(sample) / lines if lines else 64.0
    return int(min(max(batch_rows * per_row, 4096), 256 << 20))


@dataclass
class _InvalidRows:
    found: list[tuple[int, int]]

    def __call__(self, row: pcsv.InvalidRow) -> str:
        self.found.append((row.expected_columns, row.actual_columns))
        return "skip"


def _parse_chunk(chunk: Chunk, layout: Layout) -> tuple[pa.Table, RecordText]:
    """pyarrow-parse one chunk (all used columns as strings) and settle each record's line numbers."""
    invalid = _InvalidRows([])
    used = sorted(set(layout.index.values()))
    names = [f"c{i}" for i in range(len(layout.names))]
    try:
        table = pcsv.read_csv(
            pa.py_buffer(chunk.data),
            read_options=pcsv.ReadOptions(column_names=names, use_threads=True, block_size=1 << 21),
            parse_options=pcsv.ParseOptions(
                delimiter=layout.delimiter,
                quote_char='"',
                double_quote=True,
                newlines_in_values=b'"' in chunk.data,
                ignore_empty_lines=True,
                invalid_row_handler=invalid,
            ),
            convert_options=pcsv.ConvertOptions(
                column_types={names[i]: pa.string() for i in used},
                include_columns=[names[i] for i in used],
                null_values=list(layout.null_values),
                strings_can_be_null=True,
                quoted_strings_can_be_null=False,
                check_utf8=False,
            ),
        )
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError) as exc:
        records = RecordText.scan(chunk, layout.delimiter)
        _raise_bad_record(records, len(layout.names), f"unparsable record ({exc})")
        raise FileRejected(f"unparsable CSV ({exc})", line=chunk.first_line) from exc
    if invalid.found:
        _raise_bad_record(RecordText.scan(chunk, layout.delimiter), len(layout.names), None)
        expected, actual = invalid.found[0]
        raise FileRejected(f"expected {expected} fields, found {actual}", line=chunk.first_line)
    if table.num_rows == chunk.line_count:
        return table, RecordText.identity(chunk)
    records = RecordText.scan(chunk, layout.delimiter)
    if len(records.starts) != table.num_rows:  # csv and pyarrow disagree on a malformed quote
        return table, RecordText.identity(chunk)
    return table, records


def _raise_bad_record(records: RecordText, expected: int, detail: str | None) -> None:
    for start, fields in zip(records.starts, records.field_counts, strict=True):
        if fields != expected:
            message = detail or f"expected {expected} fields, found {fields}"
            raise FileRejected(message, line=start)
