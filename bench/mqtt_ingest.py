#!/usr/bin/env python
"""MQTT ingestion throughput: `gmina mqtt` storing one-reading messages into PostgreSQL.

A paho-mqtt 2.x publisher (QoS 1, unbounded in-flight window) sends --messages messages, one
reading each in the `gmina` JSON format, as fast as the broker accepts them (or at --rate per
second). Sustained rate = messages stored / (time from the first publish to the moment the last
reading is committed); the end is found by polling ``count(*) FROM water_reading`` every 0.1 s,
or, when the broker dropped messages, taken from the last batch's ``finished_at``.

Baseline, same publisher and broker: a bare paho subscriber with gmina mqtt's session (MQTT 5,
persistent, manual acks, Receive Maximum = 10 × --batch-size) that acknowledges each message as
it arrives and does nothing else.

--broker (repeatable) picks the broker:
  own           (default) a private mosquitto on a free loopback port, `max_inflight_messages 0` and
                `max_queued_messages 0`: no per-client window or queue limit, nothing dropped;
  own-window20  the same with mosquitto's default window of 20 unacknowledged messages per client;
  default       the machine's mosquitto at 127.0.0.1:1883 as configured (defaults: 20 in flight for
                MQTT 3.1.1 clients — an MQTT 5 client's Receive Maximum replaces it —, 1000 queued
                per client, beyond which it drops QoS 1 messages it has PUBACKed).
"""

# ruff: noqa: T201 - a benchmark script reports on stdout

from __future__ import annotations

import argparse
import datetime as dt
import itertools
import multiprocessing as mp
import sys
import threading
import time
from pathlib import Path

import paho.mqtt.client as mqtt
from paho.mqtt.packettypes import PacketTypes
from paho.mqtt.properties import Properties

sys.path.insert(0, str(Path(__file__).resolve().parent))
import _common as cm

DB = "gmina_bench_mqtt"
V2 = mqtt.CallbackAPIVersion.VERSION2
START = dt.datetime(2024, 1, 1, tzinfo=dt.UTC)
CONSUMER_ID = "gmina-bench-ingest"
_WARM = itertools.count()
IDLE = 15.0  # seconds without progress that end a run


def payload(i: int, meters: int, base_hour: int) -> bytes:
    m, hour = i % meters, base_hour + i // meters
    t = (START + dt.timedelta(hours=hour)).strftime("%Y-%m-%dT%H:%M:%SZ")
    return f'{{"readings":[{{"meter":"B{m:07d}","observed_at":"{t}","index_l":{1000 * m + hour * 10}}}]}}'.encode()


def publish(
    port: int, topic_prefix: str, n: int, meters: int, base_hour: int, timeout: float, rate: float = 0
) -> dict[str, float]:
    """Publish n QoS 1 messages (at ``rate``/s, or as fast as possible); returns first-publish time and PUBACKs."""
    acked = threading.Event()
    count = [0]

    def on_publish(client: mqtt.Client, userdata: object, mid: int, rc: object, props: object) -> None:
        count[0] += 1
        if count[0] >= n:
            acked.set()

    pub = mqtt.Client(callback_api_version=V2, client_id=f"gmina-bench-pub-{time.time_ns()}", clean_session=True)
    pub.max_inflight_messages_set(0)  # unlimited: as fast as the broker acknowledges
    pub.max_queued_messages_set(0)
    pub.on_publish = on_publish
    pub.connect("127.0.0.1", port)
    pub.loop_start()
    bodies = [payload(i, meters, base_hour) for i in range(n)]
    t0 = time.time()
    for i, body in enumerate(bodies):
        pub.publish(f"{topic_prefix}/{i % 100}", body, qos=1)
        if rate and i % 100 == 99:
            ahead = t0 + (i + 1) / rate - time.time()
            if ahead > 0:
                time.sleep(ahead)
    sent = time.time()
    acked.wait(timeout)
    t_acked = time.time()
    pub.loop_stop()
    pub.disconnect()
    return {"t0": t0, "sent": sent - t0, "pubacked": count[0], "puback_s": t_acked - t0, "offered": n / (sent - t0)}


def bare_subscriber(
    port: int, topic: str, n: int, ready: mp.Event, done: mp.Queue, timeout: float, window: int
) -> None:  # type: ignore[type-arg]
    got = [0]
    last = [0.0]
    # the same session as gmina mqtt: MQTT 5, persistent, its own window of unacknowledged messages
    sub = mqtt.Client(callback_api_version=V2, client_id="gmina-bench-bare", protocol=mqtt.MQTTv5, manual_ack=True)

    def on_message(client: mqtt.Client, userdata: object, msg: mqtt.MQTTMessage) -> None:
        client.ack(msg.mid, msg.qos)
        got[0] += 1
        last[0] = time.time()

    def on_connect(client: mqtt.Client, *a: object) -> None:
        client.subscribe(topic, qos=1)

    sub.on_message = on_message
    sub.on_connect = on_connect
    sub.on_subscribe = lambda *a: ready.set()
    session = Properties(PacketTypes.CONNECT)
    session.SessionExpiryInterval = 0xFFFFFFFF
    session.ReceiveMaximum = window
    sub.connect("127.0.0.1", port, clean_start=False, properties=session)
    sub.loop_start()
    deadline = time.monotonic() + timeout
    started = time.time()
    while got[0] < n and time.monotonic() < deadline:
        time.sleep(0.01)
        if time.time() - (last[0] or started) > IDLE:
            break  # nothing for a while: the rest is not coming (dropped by the broker)
    sub.loop_stop()
    sub.disconnect()
    done.put({"received": got[0], "t_end": last[0] or time.time()})


def forget_session(port: int, client_id: str) -> None:
    """Connect once with a clean session so the broker drops what an earlier run left queued."""
    c = mqtt.Client(callback_api_version=V2, client_id=client_id, clean_session=True)
    c.connect("127.0.0.1", port)
    c.loop_start()
    time.sleep(0.3)
    c.loop_stop()
    c.disconnect()


def run_baseline(port: int, n: int, meters: int, timeout: float, window: int, rate: float) -> dict[str, float]:
    forget_session(port, "gmina-bench-bare")
    ready, done = mp.Event(), mp.Queue()
    p = mp.Process(target=bare_subscriber, args=(port, "bench-bare/#", n, ready, done, timeout, window))
    p.start()
    if not ready.wait(30):
        p.kill()
        raise RuntimeError("bare subscriber did not subscribe")
    pub = publish(port, "bench-bare", n, meters, 0, timeout, rate)
    res = done.get(timeout=timeout + 30)
    p.join(timeout=10)
    elapsed = res["t_end"] - pub["t0"]
    return {"messages": res["received"], "elapsed": elapsed, "rate": res["received"] / elapsed, **pub}


def stored(db: str) -> int:
    return int(cm.psql("SELECT count(*) FROM water_reading", db))


def run_gmina(
    port: int,
    env: dict[str, str],
    n: int,
    meters: int,
    base_hour: int,
    timeout: float,
    batch_size: int,
    max_delay: float,
    log: Path,
    rate: float,
) -> dict[str, float]:
    forget_session(port, CONSUMER_ID)
    consumer = cm.start(
        [
            cm.GMINA,
            "mqtt",
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
            "--client-id",
            CONSUMER_ID,
            "--batch-size",
            str(batch_size),
            "--max-delay",
            str(max_delay),
            "--duration",
            str(timeout + 120),
        ],
        env,
        log,
    )
    try:
        # warm-up: one message through the whole path, so start-up is not counted
        before = stored(DB)
        warm = mqtt.Client(callback_api_version=V2, client_id="gmina-bench-warm", clean_session=True)
        warm.connect("127.0.0.1", port)
        warm.loop_start()
        deadline = time.monotonic() + 60
        while stored(DB) == before and time.monotonic() < deadline and consumer.poll() is None:
            k = next(_WARM)  # a fresh key each time, in the past (2025-09-17 + k hours)
            warm.publish("bench/warm", payload(0, meters, 15_000 + k), qos=1)
            time.sleep(1.0)
        warm.loop_stop()
        warm.disconnect()
        if stored(DB) == before:
            raise RuntimeError(f"the consumer stored nothing within 60 s; see {log}")
        time.sleep(0.5)
        before = stored(DB)
        result: dict[str, float] = {}
        pub_out: dict[str, float] = {}
        t = threading.Thread(
            target=lambda: pub_out.update(publish(port, "bench/m", n, meters, base_hour, timeout, rate))
        )
        t.start()
        deadline = time.monotonic() + timeout
        last_change, last_count, t_done = time.monotonic(), before, None
        while time.monotonic() < deadline:
            now_count = stored(DB)
            if now_count != last_count:
                last_change, last_count = time.monotonic(), now_count
            if now_count - before >= n:
                t_done = time.time()
                break
            if time.monotonic() - last_change > IDLE and not t.is_alive():
                break  # no progress: the rest is not coming
            time.sleep(0.1)
        t.join(timeout=timeout)
        got = stored(DB) - before
        end = t_done or time.time()
        finished = cm.psql("SELECT extract(epoch FROM max(finished_at)) FROM water_importbatch", DB)
        # when the broker dropped messages the poll waited IDLE s for them: count to the last commit then
        end = end if t_done or not finished else float(finished)
        elapsed = end - pub_out["t0"]
        result.update(pub_out)
        result.update(
            messages=got,
            elapsed=elapsed,
            rate=got / elapsed,
            complete=float(got >= n),
            commit_elapsed=float(finished) - pub_out["t0"] if finished else float("nan"),
        )
        batches = cm.psql("SELECT count(*), avg(received) FROM water_importbatch WHERE source = 'mqtt'", DB)
        result["batches"], result["avg_batch"] = (float(x or 0) for x in batches.split("|"))
        return result
    finally:
        cm.stop(consumer)


OWN_CONF = """listener {port} 127.0.0.1
allow_anonymous true
persistence false
max_inflight_messages {inflight}
max_queued_messages 0
log_dest file {log}
"""
BROKERS = {
    "default": "127.0.0.1:1883 (this machine's mosquitto 2.0, default limits: 1000 queued per client; 20 in flight"
    " unless the client's MQTT 5 Receive Maximum says otherwise)",
    "own": "private mosquitto: max_inflight_messages 0, max_queued_messages 0 (no per-client limits)",
    "own-window20": "private mosquitto: max_queued_messages 0, max_inflight_messages 20 (the default window)",
}


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--messages", type=int, default=50_000, help="messages per run (one reading each)")
    ap.add_argument("--meters", type=int, default=10_000)
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--timeout", type=float, default=300, help="give up a run after this many seconds")
    ap.add_argument(
        "--broker",
        choices=list(BROKERS),
        action="append",
        help="repeatable; default: own. " + "; ".join(f"{k} = {v}" for k, v in BROKERS.items()),
    )
    ap.add_argument("--batch-size", type=int, default=1000, help="gmina mqtt --batch-size")
    ap.add_argument("--max-delay", type=float, default=0.2, help="gmina mqtt --max-delay")
    ap.add_argument(
        "--rate", type=float, default=0, help="publish at this many messages/s (default 0: as fast as possible)"
    )
    ap.add_argument("--quick", action="store_true", help="smoke test: 3000 messages, 1 run, 60 s timeout")
    args = ap.parse_args()
    brokers = args.broker or ["own"]
    if args.quick:
        args.messages, args.runs, args.timeout = 3000, 1, 60

    cm.ensure_pg()
    work = cm.SCRATCH / "mqtt"
    work.mkdir(parents=True, exist_ok=True)
    cm.recreate_pg_db(DB)
    env = cm.gmina_env(work / "data", cm.pg_url(DB))
    cm.migrate(env)
    cm.fixture(env, meters=args.meters, mqtt_topic="bench/#", mqtt_format="gmina")
    cm.print_machine()
    rows = []
    base_hour = 0
    for broker in brokers:
        own = None
        port = 1883
        if broker != "default":
            port = cm.free_port()
            conf = work / "mosquitto.conf"
            conf.write_text(
                OWN_CONF.format(
                    port=port, log=work / "mosquitto-own.log", inflight=20 if broker == "own-window20" else 0
                )
            )
            own = cm.start(["mosquitto", "-c", str(conf)], None, work / "mosquitto-own.out")
            cm.wait_for(lambda p=port: cm.port_open(p), 15, "the private broker")
        try:
            base, gm = [], []
            for run in range(args.runs):
                window = min(65_535, 10 * args.batch_size)  # what gmina mqtt asks the broker for
                b = run_baseline(port, args.messages, args.meters, args.timeout, window, args.rate)
                base.append(b)
                cm.log(
                    f"{broker} run {run + 1} bare subscriber: {b['messages']:,.0f} msgs in {b['elapsed']:.1f}s = "
                    f"{b['rate']:,.0f}/s (publisher: offered {b['offered']:,.0f}/s, PUBACKs {b['pubacked']:,.0f} "
                    f"in {b['puback_s']:.1f}s)"
                )
                g = run_gmina(
                    port,
                    env,
                    args.messages,
                    args.meters,
                    base_hour,
                    args.timeout,
                    args.batch_size,
                    args.max_delay,
                    work / f"consumer-{broker}.log",
                    args.rate,
                )
                base_hour += args.messages // args.meters + 2
                gm.append(g)
                cm.log(
                    f"{broker} run {run + 1} gmina mqtt: {g['messages']:,.0f}/{args.messages:,} stored in "
                    f"{g['elapsed']:.1f}s = {g['rate']:,.0f}/s (last commit at {g['commit_elapsed']:.1f}s; "
                    f"offered {g['offered']:,.0f}/s, PUBACKs to publisher {g['pubacked']:,.0f} "
                    f"in {g['puback_s']:.1f}s; "
                    f"{g['batches']:.0f} batches so far, avg {g['avg_batch']:.1f} msgs)"
                )
        finally:
            if own is None:  # leave no persistent session behind on the shared broker
                for cid in (CONSUMER_ID, "gmina-bench-bare"):
                    forget_session(port, cid)
            else:
                cm.stop(own)
        label = BROKERS[broker]
        b_rate = cm.median([x["rate"] for x in base])
        g_rate = cm.median([x["rate"] for x in gm])
        complete = all(x["complete"] for x in gm)
        b_done = cm.median([x["messages"] for x in base])
        rows.append(
            [
                label,
                "bare paho subscriber, acks at once (baseline)",
                args.runs,
                f"{args.messages:,}",
                f"{cm.median([x['offered'] for x in base]):,.0f}",
                f"{b_done:,.0f}",
                f"{b_rate:,.0f}",
                "—",
            ]
        )
        g_done = cm.median([x["messages"] for x in gm])
        rows.append(
            [
                label,
                "gmina mqtt (stored, committed)" + ("" if complete else " — NOT ALL STORED"),
                args.runs,
                f"{args.messages:,}",
                f"{cm.median([x['offered'] for x in gm]):,.0f}",
                f"{g_done:,.0f}",
                f"{g_rate:,.0f}",
                f"{g_rate / b_rate:.2f}×",
            ]
        )
    print(
        f"\nMQTT ingestion, QoS 1, one reading per message, median of {args.runs} run(s); "
        f"published {'at ' + format(args.rate, ',.0f') + '/s' if args.rate else 'as fast as possible'}; "
        f"gmina mqtt --batch-size {args.batch_size} --max-delay {args.max_delay}\n"
    )
    print(
        cm.table(
            [
                "broker",
                "what",
                "runs",
                "published/run",
                "offered msg/s",
                "delivered or stored/run",
                "messages/s",
                "ratio",
            ],
            rows,
        )
    )
    print(
        "\nmessages/s = messages delivered (baseline) or stored (gmina) / seconds from the first publish to the "
        "last delivery or commit. Publisher PUBACKs are always complete; a shortfall means the broker dropped."
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
