"""Grouping MQTT messages: one Arrow batch per group, the same records as message by message."""

from __future__ import annotations

import json

import pyarrow as pa

from gmina.water.models.choices import PayloadFormat
from gmina.water.mqtt import Message, ParsedBatch, Route, parse_group, parse_message


def _rows(batch: pa.RecordBatch) -> list[dict[str, object]]:
    return sorted(batch.to_pylist(), key=lambda row: json.dumps(row, sort_keys=True, default=str))


def test_a_group_parses_to_what_its_messages_parse_to() -> None:
    own = Route("site/#", 1, PayloadFormat.GMINA_JSON)
    wmbus = Route("wmbus/#", 1, PayloadFormat.WMBUSMETERS)
    reading = {"meter": "M1", "observed_at": "2025-03-01T01:00:00Z", "index_l": 5}
    payloads = [
        (own, {"readings": [reading, dict(reading, index_l=-1)]}),
        (own, b"{not json"),
        (wmbus, {"id": "36512345", "total_m3": 1.5, "timestamp": "2025-03-01T01:00:00Z", "media": "water"}),
        (own, {"readings": [dict(reading, observed_at="2025-03-01T02:00:00+01:00", flow_lph=1.5)]}),
        (own, {"readings": [], "extra": 1}),
        (wmbus, b"[]"),
    ]
    items = [
        (route, Message(i, 1, route.topic.replace("#", "x"), p if isinstance(p, bytes) else json.dumps(p).encode()))
        for i, (route, p) in enumerate(payloads)
    ]
    group = parse_group(items)
    one_by_one = [parse_message(route, message, line) for line, (route, message) in enumerate(items)]
    readings = pa.Table.from_batches([b.readings for b in one_by_one]).to_batches()
    rejections = pa.Table.from_batches([b.rejections for b in one_by_one]).to_batches()
    assert isinstance(group, ParsedBatch)
    assert _rows(group.readings) == _rows(pa.concat_batches(readings))
    assert _rows(group.rejections) == _rows(pa.concat_batches(rejections))
    assert sorted(group.readings.column("line").to_pylist()) == [0, 2, 3]
    assert sorted(group.rejections.column("line").to_pylist()) == [0, 1, 4, 5]
