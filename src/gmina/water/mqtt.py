"""``gmina mqtt``: a long-running subscriber that stores readings and acknowledges only after commit.

* QoS 1 with a persistent session (``clean_session=False``, fixed client id): while the consumer
  is down the broker keeps the messages; what was delivered but not acknowledged is delivered
  again after a crash.
* Manual acknowledgement: a PUBACK is sent only after the message's readings (or its quarantine
  entry) are committed. A crash between commit and PUBACK causes a redelivery, which the store
  counts as a duplicate: at-least-once delivery, exactly-once storage.
* Messages are grouped (``batch_size`` / ``max_delay``) into one transaction per member for speed.
* MQTT 5, so that the consumer sets its own window of delivered-but-unacknowledged messages
  (Receive Maximum, ten groups deep). Under MQTT 3.1.1 the broker's window applies (Mosquitto:
  ``max_inflight_messages 20``): acknowledging after commit, no group could exceed 20 messages, and
  what the broker cannot queue beyond its ``max_queued_messages`` it drops.
* Each member's topics come from its ``MqttSubscription`` rows, re-read every minute.
"""

from __future__ import annotations

import logging
import queue
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field

import paho.mqtt.client as mqtt
import pyarrow as pa
from django.db import close_old_connections, connections
from paho.mqtt.enums import CallbackAPIVersion
from paho.mqtt.packettypes import PacketTypes
from paho.mqtt.properties import Properties

from gmina.consortium.actors import Actor
from gmina.consortium.models import Member
from gmina.ingest import (
    READINGS_SCHEMA,
    REJECTIONS_SCHEMA,
    FileRejected,
    ParsedBatch,
    RejectReason,
    parse_api_json,
    parse_api_json_messages,
    parse_chirpstack_uplink,
    parse_wmbusmeters,
)
from gmina.water.models import MqttSubscription
from gmina.water.models.choices import PayloadFormat, Source
from gmina.water.store import ingest_batches

log = logging.getLogger(__name__)

SESSION_NEVER_EXPIRES = 0xFFFFFFFF  # MQTT 5: the persistent session of 3.1.1's clean_session=False

PARSERS: dict[str, Callable[[bytes], ParsedBatch]] = {
    PayloadFormat.GMINA_JSON: parse_api_json,
    PayloadFormat.WMBUSMETERS: parse_wmbusmeters,
    PayloadFormat.CHIRPSTACK: parse_chirpstack_uplink,
}


@dataclass
class Message:
    mid: int
    qos: int
    topic: str
    payload: bytes


@dataclass
class Stats:
    received: int = 0
    acknowledged: int = 0
    stored: int = 0
    unrouted: int = 0
    batches: int = 0
    failures: int = 0
    lock: threading.Lock = field(default_factory=threading.Lock)


@dataclass(frozen=True)
class Route:
    topic: str
    member_id: int
    payload_format: str


def load_routes() -> list[Route]:
    subscriptions = MqttSubscription.all_tenants.filter(active=True, member__active=True)
    return [Route(s.topic, s.member_id, s.payload_format) for s in subscriptions]


def route_of(routes: list[Route], topic: str) -> Route | None:
    return next((r for r in routes if mqtt.topic_matches_sub(r.topic, topic)), None)


def parse_message(route: Route, message: Message, line: int) -> ParsedBatch:
    """Parse one payload; a payload that cannot be read at all becomes one quarantined record."""
    try:
        parsed = PARSERS[route.payload_format](message.payload)
    except FileRejected as exc:
        return ParsedBatch(ParsedBatch.empty().readings, _malformed([(line, message, exc)]))
    return ParsedBatch(_relabel(parsed.readings, line), _relabel(parsed.rejections, line))


def parse_group(items: list[tuple[Route, Message]]) -> ParsedBatch:
    """A group's messages as one batch (line = the message's position in the group).

    Payloads in the project's JSON are parsed together into one Arrow batch (building a batch per
    one-reading message would cost more than the rest of its way to the database); the store's
    per-batch work (meter lookup, staging) then also runs once per group.
    """
    own = [
        (line, message)
        for line, (route, message) in enumerate(items)
        if route.payload_format == PayloadFormat.GMINA_JSON
    ]
    parsed, refused = parse_api_json_messages((line, message.payload) for line, message in own)
    by_line = dict(own)
    parts = [parsed, ParsedBatch(ParsedBatch.empty().readings, _malformed([(n, by_line[n], e) for n, e in refused]))]
    parts += [
        parse_message(route, message, line)
        for line, (route, message) in enumerate(items)
        if route.payload_format != PayloadFormat.GMINA_JSON
    ]
    return ParsedBatch(
        _one_batch([b.readings for b in parts], READINGS_SCHEMA),
        _one_batch([b.rejections for b in parts], REJECTIONS_SCHEMA),
    )


def _malformed(refused: list[tuple[int, Message, FileRejected]]) -> pa.RecordBatch:
    return pa.RecordBatch.from_pylist(
        [
            {
                "line": line,
                "column": None,
                "reason": str(RejectReason.MALFORMED),
                "message": f"topic {message.topic}: {exc}",
                "raw": message.payload.decode("utf-8", errors="replace"),
            }
            for line, message, exc in refused
        ],
        schema=REJECTIONS_SCHEMA,
    )


def _one_batch(batches: list[pa.RecordBatch], schema: pa.Schema) -> pa.RecordBatch:
    combined = pa.Table.from_batches(batches, schema=schema).combine_chunks().to_batches()
    return combined[0] if combined else pa.RecordBatch.from_pylist([], schema=schema)


def _relabel(batch: pa.RecordBatch, line: int) -> pa.RecordBatch:
    """Number records by message (line = the message's position in the stored group)."""
    if batch.num_rows == 0:
        return batch
    index = batch.schema.get_field_index("line")
    return batch.set_column(index, batch.schema.field(index), pa.array([line] * batch.num_rows, pa.int64()))


class Consumer:
    def __init__(
        self,
        *,
        host: str,
        port: int,
        client_id: str,
        batch_size: int = 1000,
        max_delay: float = 0.2,
        refresh_every: float = 60.0,
    ) -> None:
        self.host, self.port = host, port
        self.batch_size, self.max_delay, self.refresh_every = batch_size, max_delay, refresh_every
        self.stats = Stats()
        self.window = min(65_535, 10 * batch_size)  # delivered, not yet acknowledged (MQTT 5 Receive Maximum)
        self.inbox: queue.Queue[Message] = queue.Queue(maxsize=max(50_000, self.window))
        self.stopping = threading.Event()
        self.routes: list[Route] = []
        self.subscribed: set[str] = set()
        self.client = mqtt.Client(
            callback_api_version=CallbackAPIVersion.VERSION2,
            client_id=client_id,
            protocol=mqtt.MQTTv5,
            manual_ack=True,
        )
        self.client.reconnect_delay_set(min_delay=1, max_delay=30)
        self.client.on_connect = self._on_connect
        self.client.on_message = self._on_message
        self.client.on_disconnect = self._on_disconnect

    # --- network thread ---------------------------------------------------------------------
    def _on_connect(self, client: mqtt.Client, userdata: object, flags: object, reason: object, props: object) -> None:
        log.info("mqtt: connected to %s:%s (%s)", self.host, self.port, reason)
        self.subscribed.clear()
        self._subscribe()

    def _on_disconnect(
        self, client: mqtt.Client, userdata: object, flags: object, reason: object, props: object
    ) -> None:
        log.warning("mqtt: disconnected (%s); reconnecting", reason)

    def _on_message(self, client: mqtt.Client, userdata: object, msg: mqtt.MQTTMessage) -> None:
        with self.stats.lock:
            self.stats.received += 1
        self.inbox.put(Message(msg.mid, msg.qos, msg.topic, bytes(msg.payload)))

    def _subscribe(self) -> None:
        topics = {r.topic for r in self.routes} - self.subscribed
        for topic in sorted(topics):
            self.client.subscribe(topic, qos=1)
            self.subscribed.add(topic)

    # --- worker thread ----------------------------------------------------------------------
    def _collect(self) -> list[Message]:
        messages: list[Message] = []
        deadline = time.monotonic() + self.max_delay
        while len(messages) < self.batch_size:
            try:  # what has arrived already, without a timed wait per message
                while len(messages) < self.batch_size:
                    messages.append(self.inbox.get_nowait())
                break
            except queue.Empty:
                pass
            timeout = deadline - time.monotonic()
            if timeout <= 0:
                break
            try:
                messages.append(self.inbox.get(timeout=timeout))
            except queue.Empty:
                break
        return messages

    def store(self, messages: list[Message]) -> None:
        """Commit a group of messages, then acknowledge them; on failure keep them un-acknowledged.

        A message no member subscribes to cannot be stored anywhere; it is logged and acknowledged.
        """
        groups: dict[int, list[tuple[Route, Message]]] = {}
        unrouted: list[Message] = []
        for message in messages:
            route = route_of(self.routes, message.topic)
            if route is None:
                unrouted.append(message)
            else:
                groups.setdefault(route.member_id, []).append((route, message))
        for message in unrouted:
            log.warning("mqtt: no member subscribes to topic %s; message dropped", message.topic)
        with self.stats.lock:
            self.stats.unrouted += len(unrouted)
        for member_id, items in groups.items():
            batches = [parse_group(items)]
            while not self.stopping.is_set():
                try:  # every database call in here: an outage must not end the storing thread
                    close_old_connections()
                    member = Member.all_tenants.get(pk=member_id)
                    result = ingest_batches(
                        Actor.system("mqtt"),
                        member,
                        batches,
                        source=Source.MQTT,
                        label=f"{len(items)} messages from {items[0][1].topic}"[:300],
                    )
                    break
                except Exception:
                    log.exception("mqtt: storing %d messages failed; retrying without acknowledging", len(items))
                    with self.stats.lock:
                        self.stats.failures += 1
                    time.sleep(1.0)
            else:
                return  # stopping: never acknowledge what was not committed
            with self.stats.lock:
                self.stats.stored += result.accepted
                self.stats.batches += 1
        # MQTT wants PUBACKs in the order the PUBLISHes arrived: acknowledge the whole group in order.
        self._ack(messages)

    def _ack(self, messages: list[Message]) -> None:
        for message in messages:
            if message.qos > 0:
                self.client.ack(message.mid, message.qos)
        with self.stats.lock:
            self.stats.acknowledged += len(messages)

    def _work(self) -> None:
        try:
            self._loop()
        finally:
            connections.close_all()  # this thread's database connections

    def _loop(self) -> None:
        refreshed = 0.0
        while not self.stopping.is_set():
            if time.monotonic() - refreshed > self.refresh_every:
                refreshed = time.monotonic()
                try:
                    close_old_connections()
                    self.routes = load_routes()
                except Exception:
                    log.exception("mqtt: reading the subscriptions failed; keeping the current ones")
                    refreshed -= self.refresh_every - 5.0  # try again in 5 s
                self._subscribe()
            messages = self._collect()
            if messages:
                self.store(messages)

    def run(self, *, duration: float | None = None) -> Stats:
        """Run until stopped (SIGTERM/SIGINT via ``stop``) or for ``duration`` seconds."""
        self.routes = load_routes()
        if not self.routes:
            log.warning("mqtt: no active subscriptions; add one per member (MqttSubscription)")
        session = Properties(PacketTypes.CONNECT)  # type: ignore[no-untyped-call]
        session.SessionExpiryInterval = SESSION_NEVER_EXPIRES  # the broker keeps what arrives while we are down
        session.ReceiveMaximum = self.window
        self.client.connect(self.host, self.port, keepalive=30, clean_start=False, properties=session)
        self.client.loop_start()
        worker = threading.Thread(target=self._work, name="gmina-mqtt-store", daemon=True)
        worker.start()
        started = time.monotonic()
        try:
            while not self.stopping.is_set():
                if duration is not None and time.monotonic() - started >= duration:
                    break
                time.sleep(0.1)
        finally:
            self.stopping.set()
            worker.join(timeout=30)
            self.client.loop_stop()
            self.client.disconnect()
            connections.close_all()  # the calling thread read the subscriptions
        return self.stats

    def stop(self) -> None:
        self.stopping.set()
