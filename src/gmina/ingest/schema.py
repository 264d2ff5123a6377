"""The contract between the parsers (``gmina.ingest``) and the store (``gmina.water``).

Every parser turns its input into :class:`ParsedBatch` objects: Arrow record batches of
normalised readings and of rejected records. Units and time are fixed here, at the edge:

* ``observed_at`` is UTC (``timestamp[us, tz=UTC]``); local times were converted by the parser;
* volumes are integer litres (``index_l``, ``backflow_l``); flow is litres per hour;
* a meter is named as the source names it: ``meter_ref`` with ``ref_kind`` ``serial`` (printed
  serial) or ``device`` (radio id / wM-Bus id / DevEUI, lower-case). The store resolves it to a
  meter of the importing member.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

import pyarrow as pa

FLAG_TYPE = pa.struct([("code", pa.string()), ("state", pa.string()), ("raw", pa.string())])

READINGS_SCHEMA = pa.schema(
    [
        pa.field("line", pa.int64(), nullable=False),  # 1-based line (CSV) or record index (JSON)
        pa.field("meter_ref", pa.string(), nullable=False),
        pa.field("ref_kind", pa.string(), nullable=False),  # RefKind
        pa.field("observed_at", pa.timestamp("us", tz="UTC"), nullable=False),
        pa.field("index_l", pa.int64(), nullable=False),  # cumulative register, litres
        pa.field("flow_lph", pa.float64()),  # instantaneous flow, L/h, if the source gives it
        pa.field("backflow_l", pa.int64()),  # reverse-volume register, litres, if any
        pa.field("time_basis", pa.string(), nullable=False),  # TimeBasis
        pa.field("time_ambiguous", pa.bool_(), nullable=False),  # local time in the repeated DST hour
        pa.field("read_type", pa.string(), nullable=False),  # ReadType
        pa.field("flags", pa.list_(FLAG_TYPE)),  # device alarms carried by this reading
    ]
)

REJECTIONS_SCHEMA = pa.schema(
    [
        pa.field("line", pa.int64(), nullable=False),
        pa.field("column", pa.string()),  # the offending column (header name or JSON key), if known
        pa.field("reason", pa.string(), nullable=False),  # RejectReason
        pa.field("message", pa.string(), nullable=False),  # human-readable, names the value
        pa.field("raw", pa.string(), nullable=False),  # the original record text, kept for re-processing
    ]
)


class RefKind(StrEnum):
    SERIAL = "serial"
    DEVICE = "device"


class TimeBasis(StrEnum):
    METER_CLOCK = "meter_clock"
    RECEPTION = "reception"
    BILLING_DATE = "billing_date"
    MANUAL_ENTRY = "manual_entry"


class ReadType(StrEnum):
    ACTUAL = "actual"
    ESTIMATED = "estimated"
    CUSTOMER = "customer"
    FINAL = "final"  # last reading of a meter being removed (odczyt końcowy / demontaż)
    INITIAL = "initial"  # first reading of a newly installed meter (odczyt początkowy / montaż)


class RejectReason(StrEnum):
    """Why a record went to quarantine. Parsers use the first group; the store the second."""

    MALFORMED = "malformed"  # wrong number of fields, unparsable record
    MISSING_VALUE = "missing_value"
    BAD_NUMBER = "bad_number"
    NEGATIVE_INDEX = "negative_index"
    BAD_TIMESTAMP = "bad_timestamp"
    NONEXISTENT_LOCAL_TIME = "nonexistent_local_time"  # inside the spring-forward DST gap
    BAD_UNIT = "bad_unit"
    SCIENTIFIC_ID = "scientific_id"  # an id mangled by a spreadsheet (3,65E+07)
    # decided by the store, which knows the member's meters and history:
    UNKNOWN_METER = "unknown_meter"
    FUTURE_TIMESTAMP = "future_timestamp"
    DECREASING_INDEX = "decreasing_index"
    CONFLICT = "conflict"  # same (meter, timestamp) already stored with a different value


class FlagState(StrEnum):
    ACTIVE = "active"
    HISTORIC = "historic"  # latched / previous / zapamiętany


@dataclass(frozen=True)
class ParsedBatch:
    """One chunk of a source: the readings that parsed and the records that did not."""

    readings: pa.RecordBatch
    rejections: pa.RecordBatch

    def __post_init__(self) -> None:
        if not self.readings.schema.equals(READINGS_SCHEMA):
            raise TypeError(f"readings batch has schema {self.readings.schema}, expected READINGS_SCHEMA")
        if not self.rejections.schema.equals(REJECTIONS_SCHEMA):
            raise TypeError(f"rejections batch has schema {self.rejections.schema}, expected REJECTIONS_SCHEMA")

    @classmethod
    def empty(cls) -> ParsedBatch:
        return cls(_empty(READINGS_SCHEMA), _empty(REJECTIONS_SCHEMA))


def _empty(schema: pa.Schema) -> pa.RecordBatch:
    return pa.RecordBatch.from_pylist([], schema=schema)


class FileRejected(ValueError):
    """The whole file is refused (nothing of it is imported): encoding, header or structure.

    ``line`` and ``column`` (1-based) point at the first problem.
    """

    def __init__(self, message: str, *, line: int, column: int | None = None) -> None:
        where = f"line {line}" + (f", column {column}" if column is not None else "")
        super().__init__(f"{where}: {message}")
        self.line = line
        self.column = column
        self.reason = message
