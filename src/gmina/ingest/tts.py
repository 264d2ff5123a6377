"""The Things Stack v3 uplink (``v3/{app}@{tenant}/devices/{device}/up``, reference §2.2).

* ``meter_ref`` = ``end_device_ids.dev_eui`` lower-cased (TTS sends upper case), ``ref_kind=device``;
* ``observed_at`` = ``decoded_payload.meter_time`` if present, else the top-level ``received_at``;
* the reading comes from ``uplink_message.decoded_payload`` (same shape as ChirpStack's ``object``,
  see :mod:`gmina.ingest.lorawan`); TTS omits empty/false/zero fields, so a missing alarm is false;
* ``simulated: true`` uplinks (console simulations) are dropped: an empty batch.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from gmina.ingest.batches import BatchBuilder
from gmina.ingest.jsonio import JsonInput, RecordRejected, load_object
from gmina.ingest.lorawan import Uplink, add_decoded, parse_time
from gmina.ingest.schema import ParsedBatch, RejectReason


def parse_tts_uplink(
    message: JsonInput | Mapping[str, Any], *, line: int = 0, prefer_serial: bool = False
) -> ParsedBatch:
    """Parse one TTS v3 uplink message (MQTT or webhook JSON).

    >>> batch = parse_tts_uplink('{"end_device_ids": {"dev_eui": "70B3D5FFEE001234"},'
    ...     ' "received_at": "2025-03-30T00:45:03.991201Z",'
    ...     ' "uplink_message": {"decoded_payload": {"volume_m3": 980.004, "alarms": {"backflow": true}}}}')
    >>> row = batch.readings.to_pylist()[0]
    >>> row["meter_ref"], row["index_l"], [f["code"] for f in row["flags"]]
    ('70b3d5ffee001234', 980004, ['backflow'])
    """
    document, raw = load_object(message, "a TTS uplink message")
    if document.get("simulated") is True:
        return ParsedBatch.empty()
    builder = BatchBuilder()
    try:
        ids = document.get("end_device_ids")
        dev_eui = ids.get("dev_eui") if isinstance(ids, Mapping) else None
        if not isinstance(dev_eui, str) or not dev_eui.strip():
            raise RecordRejected("end_device_ids.dev_eui", RejectReason.MISSING_VALUE, "no end_device_ids.dev_eui")
        received = document.get("received_at")
        uplink = Uplink(
            line=line,
            device=dev_eui.strip().lower(),
            reception=None if received is None else parse_time(received, "received_at"),
            reception_key="received_at",
            object_key="uplink_message.decoded_payload",
        )
        message_body = document.get("uplink_message")
        decoded = message_body.get("decoded_payload") if isinstance(message_body, Mapping) else None
        add_decoded(builder, uplink, decoded, prefer_serial=prefer_serial)
    except RecordRejected as exc:
        builder.reject(line=line, column=exc.column, reason=exc.reason, message=exc.message, raw=raw)
    return builder.build()
