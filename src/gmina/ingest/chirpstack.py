"""ChirpStack v4 uplink event (``application/{id}/device/{devEui}/event/up``, reference §2.1).

* ``meter_ref`` = ``deviceInfo.devEui`` lower-cased (``ref_kind=device``); with ``prefer_serial=True``
  the decoder's ``meter_serial`` or ``deviceInfo.tags.meter_serial`` is used instead (``serial``);
* ``observed_at`` = ``object.meter_time`` (meter clock, must carry an offset) if present, else ``time``
  (reception; RFC 3339 with nanoseconds, truncated to microseconds);
* the reading itself comes from ``object`` (see :mod:`gmina.ingest.lorawan`); a missing ``object``
  (no codec, or the codec failed) is a ``missing_value`` rejection; ``joinServerContext`` set means the
  payload could not be decrypted → ``malformed`` rejection.

``line`` is 0 unless the caller numbers messages.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from gmina.ingest.batches import BatchBuilder
from gmina.ingest.jsonio import JsonInput, RecordRejected, load_object
from gmina.ingest.lorawan import Uplink, add_decoded, parse_time
from gmina.ingest.schema import ParsedBatch, RejectReason


def parse_chirpstack_uplink(
    message: JsonInput | Mapping[str, Any], *, line: int = 0, prefer_serial: bool = False
) -> ParsedBatch:
    """Parse one ChirpStack v4 ``up`` event (JSON encoding).

    >>> batch = parse_chirpstack_uplink('{"time": "2025-10-26T01:30:12.418000000+00:00",'
    ...     ' "deviceInfo": {"devEui": "70B3D5FFEE001234"}, "object": {"volume_m3": 1234.567}}')
    >>> row = batch.readings.to_pylist()[0]
    >>> row["meter_ref"], row["index_l"], row["observed_at"].isoformat()
    ('70b3d5ffee001234', 1234567, '2025-10-26T01:30:12.418000+00:00')
    """
    document, raw = load_object(message, "a ChirpStack uplink event")
    builder = BatchBuilder()
    try:
        uplink = _envelope(document, line)
        if document.get("joinServerContext") is not None:
            raise RecordRejected(
                "joinServerContext",
                RejectReason.MALFORMED,
                "payload not decrypted (joinServerContext is set)",
            )
        add_decoded(builder, uplink, document.get("object"), prefer_serial=prefer_serial)
    except RecordRejected as exc:
        builder.reject(line=line, column=exc.column, reason=exc.reason, message=exc.message, raw=raw)
    return builder.build()


def _envelope(document: Mapping[str, Any], line: int) -> Uplink:
    info = document.get("deviceInfo")
    dev_eui = info.get("devEui") if isinstance(info, Mapping) else None
    if not isinstance(dev_eui, str) or not dev_eui.strip():
        raise RecordRejected("deviceInfo.devEui", RejectReason.MISSING_VALUE, "no deviceInfo.devEui")
    tags = info.get("tags") if isinstance(info, Mapping) else None
    serial = tags.get("meter_serial") if isinstance(tags, Mapping) else None
    reception = document.get("time")
    return Uplink(
        line=line,
        device=dev_eui.strip().lower(),
        reception=None if reception is None else parse_time(reception, "time"),
        reception_key="time",
        object_key="object",
        serial_hint=serial if isinstance(serial, str) else None,
    )
