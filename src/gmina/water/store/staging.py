"""Temporary staging tables and fast row writers, per database vendor.

PostgreSQL gets ``COPY … FROM STDIN`` fed by Arrow's CSV writer (no Python object per row);
SQLite gets ``executemany``. Datetimes are written the way each Django backend stores them.
"""

from __future__ import annotations

import io
from collections.abc import Iterator, Sequence
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv
from django.db.backends.base.base import BaseDatabaseWrapper

STAGE = "gmina_stage"
STAGE_FLAG = "gmina_stage_flag"
BAD = "gmina_bad"
FLAGGED = "gmina_flagged"  # (meter, time, flag) keys of the staged file, see events.py
SPAN = "gmina_span"  # each meter's first staged reading, see increasing.py

STAGE_COLUMNS = (
    "seq",
    "line",
    "meter_id",
    "observed_at",
    "index_l",
    "flow_lph",
    "backflow_l",
    "time_basis",
    "read_type",
    "time_ambiguous",
    "meter_ref",
    "ref_kind",
)


def _ddl(vendor: str) -> list[str]:
    ts = "timestamptz" if vendor == "postgresql" else "text"
    real = "double precision" if vendor == "postgresql" else "real"
    boolean = "boolean" if vendor == "postgresql" else "integer"
    temp = "TEMPORARY TABLE"
    on_commit = _ON_COMMIT.get(vendor, "")
    return [
        f"CREATE {temp} {STAGE} (seq bigint, line bigint, meter_id bigint, observed_at {ts}, index_l bigint,"
        f" flow_lph {real}, backflow_l bigint, time_basis varchar(16), read_type varchar(16),"
        f" time_ambiguous {boolean}, meter_ref varchar(64), ref_kind varchar(8)){on_commit}",
        f"CREATE {temp} {STAGE_FLAG} (seq bigint, code varchar(16), state varchar(8), raw varchar(100)){on_commit}",
        f"CREATE {temp} {BAD} (seq bigint, reason varchar(32), message text){on_commit}",
        f"CREATE {temp} {SPAN} (meter_id bigint, t0 {ts}, index0 bigint){on_commit}",
    ]


_ON_COMMIT = {"postgresql": " ON COMMIT DROP"}


def on_commit(connection: BaseDatabaseWrapper) -> str:
    """The clause that drops a temporary table with the transaction, where the database has one."""
    return _ON_COMMIT.get(connection.vendor, "")


def create_staging(connection: BaseDatabaseWrapper) -> None:
    """Create the empty staging tables for this transaction."""
    drop_staging(connection)  # an enclosing transaction may still hold a previous run's tables
    statements = _ddl(connection.vendor)
    if connection.vendor == "postgresql":
        statements = [
            # Sorts and hashes of a whole file's readings stay in memory instead of spilling.
            "SET LOCAL work_mem = '256MB'",
            # The planner cannot estimate the (never analysed) temporary tables and would compile the
            # import's statements just in time: seconds of compilation for statements run once.
            "SET LOCAL jit = off",
            *statements,
        ]
        statements = ["; ".join(statements)]  # one round trip
    with connection.cursor() as cursor:
        for statement in statements:
            cursor.execute(statement)


TEMP_TABLES = (STAGE, STAGE_FLAG, BAD, FLAGGED, SPAN, "gmina_cand")


def drop_staging(connection: BaseDatabaseWrapper) -> None:
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute("DROP TABLE IF EXISTS " + ", ".join(f"pg_temp.{table}" for table in TEMP_TABLES))
            return
        for table in TEMP_TABLES:
            cursor.execute(f"DROP TABLE IF EXISTS temp.{table}")


def write_stage(connection: BaseDatabaseWrapper, table: pa.Table) -> None:
    """Append rows (columns named as ``STAGE_COLUMNS``) to the staging table."""
    copy_rows(connection, STAGE, table.select(list(STAGE_COLUMNS)))


def copy_rows(connection: BaseDatabaseWrapper, name: str, table: pa.Table) -> None:
    """Bulk-append an Arrow table to a database table with the same column names.

    Columns that are null in every row are left out (the database fills in NULL): less to write
    and to parse, and for SQLite fewer parameters per row.
    """
    if table.num_rows == 0:
        return
    table = table.select(
        [
            name
            for name, column in zip(table.column_names, table.columns, strict=True)
            if column.null_count < len(column)
        ]
    )
    columns = ", ".join(table.column_names)
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            raw = cursor.cursor
            if _session_is_utc(raw):
                table = _naive_utc(table)
            buffer = io.BytesIO()
            pacsv.write_csv(table, buffer, pacsv.WriteOptions(include_header=False, quoting_style="needed"))
            with raw.copy(f"COPY {name} ({columns}) FROM STDIN WITH (FORMAT csv)") as copy:
                copy.write(buffer.getbuffer())
        return
    placeholders = ", ".join("?" for _ in table.column_names)
    with connection.cursor() as cursor:
        cursor.connection.executemany(  # the sqlite3 connection: no per-row Django overhead
            f"INSERT INTO {name} ({columns}) VALUES ({placeholders})", _sqlite_rows(table)
        )


def _session_is_utc(raw_cursor: Any) -> bool:
    """Whether the PostgreSQL session reads a timestamp without an offset as UTC (Django sets it so)."""
    return raw_cursor.connection.info.parameter_status("TimeZone") in {"UTC", "Etc/UTC"}


def _naive_utc(table: pa.Table) -> pa.Table:
    """Timestamp columns without their zone: Arrow writes them as plain UTC text, many times faster
    than with the zone (most of the CSV writing time otherwise); read in a UTC session, same instants."""
    for i, field in enumerate(table.schema):
        if pa.types.is_timestamp(field.type) and field.type.tz is not None:
            naive = pc.cast(table.column(i), pa.timestamp(field.type.unit))
            table = table.set_column(i, field.name, naive)
    return table


def _sqlite_rows(table: pa.Table) -> Iterator[Sequence[Any]]:
    columns: list[list[Any]] = []
    for field, column in zip(table.schema, table.columns, strict=True):
        if pa.types.is_timestamp(field.type):
            columns.append(sqlite_datetimes(column))
        elif pa.types.is_boolean(field.type):
            columns.append(pc.cast(column, pa.int8()).to_pylist())
        else:
            columns.append(column.to_pylist())
    return zip(*columns, strict=True)


def sqlite_datetimes(column: pa.ChunkedArray | pa.Array) -> list[str | None]:
    """UTC timestamps as Django's SQLite backend stores them ('YYYY-MM-DD HH:MM:SS[.ffffff]').

    Arrow's text of a zoneless microsecond timestamp is 'YYYY-MM-DD HH:MM:SS.ffffff' (a cast, many
    times faster than ``strftime``); Django writes the fraction only when it is not zero.
    """
    text = pc.cast(pc.cast(column, pa.timestamp("us", tz="UTC")).cast(pa.timestamp("us")), pa.string())
    whole = pc.ends_with(text, ".000000")
    return pc.if_else(whole, pc.utf8_slice_codeunits(text, 0, 19), text).to_pylist()  # type: ignore[no-any-return]
