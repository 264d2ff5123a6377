#!/usr/bin/env python
"""Fault injection under load: nothing acknowledged may be lost, nothing may be stored twice.

Database `gmina_faults`, recreated at the start, on a throwaway PostgreSQL 15 cluster (initdb on a
free loopback port, fsync on, removed at the end) so that stopping it disturbs no one else; `--pg main`
uses the machine's cluster 15/main at 127.0.0.1:5432 instead. Each run:

1. start `gmina serve` (2 workers) and `gmina mqtt` (persistent session, fixed client id);
2. run an HTTP load generator (--http-threads threads, --http-rate requests/s in all, --batch readings
   per request; it records every reading whose request got a 200) and an MQTT publisher (QoS 1,
   --mqtt-rate messages/s, one reading each; it records every message the broker PUBACKed);
3. at a random moment kill one thing, in rotation: the gunicorn master and its workers (SIGKILL),
   the MQTT consumer (SIGKILL), or PostgreSQL (`pg_ctl … stop -m immediate`);
   then restart it;
4. keep the load going for --after seconds, stop it, and let the consumer drain (until every
   acknowledged reading is stored, or the stored count stops changing for --settle seconds, or
   --drain-timeout);
5. verify: every acknowledged HTTP reading and every PUBACKed MQTT reading is in water_reading with
   its index (0 missing), and no (meter_id, observed_at) appears twice.

Mosquitto is the machine's broker at 127.0.0.1:1883 and is never restarted (it keeps the
persistent session's queued messages in memory). Its defaults cap what it holds for one
client (max_queued_messages 1000, max_inflight_messages 20): a drop there is counted apart, read
from its log ("Outgoing messages are being dropped"). Exits 1 on any loss or duplicate.
"""

# ruff: noqa: T201 - a benchmark script reports on stdout

from __future__ import annotations

import argparse
import datetime as dt
import http.client
import json
import random
import shutil
import subprocess
import sys
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

import paho.mqtt.client as mqtt
import psycopg

sys.path.insert(0, str(Path(__file__).resolve().parent))
import _common as cm

DB = "gmina_faults"
V2 = mqtt.CallbackAPIVersion.VERSION2
START = dt.datetime(2000, 1, 1, tzinfo=dt.UTC)
# HTTP keys in the first half of a run's hours, MQTT keys in the second, warm-up readings in the last
# 5 %. A run uses a few hundred hours at the default rates; 21 runs reach 2004, far from the store's
# "future" limit (20,000 hours a run reached the future from run 12 on: every reading quarantined).
HOURS_PER_RUN = 2_000
CONSUMER_ID = "gmina-faults-ingest"
TOPIC = "faults"
MOSQUITTO_LOG = Path("/var/log/mosquitto/mosquitto.log")
FAULTS = ("gunicorn", "consumer", "postgres")
PG_BIN = "/usr/lib/postgresql/15/bin"


def stamp(hour: int) -> dt.datetime:
    return START + dt.timedelta(hours=hour)


def index_of(m: int, hour: int) -> int:
    return 1000 * m + 10 * hour  # increasing in time for every meter: never a "decreasing index"


@dataclass
class Load:
    """What the load generators sent and what was acknowledged."""

    http_acked: list[tuple[int, int]] = field(default_factory=list)  # (meter number, hour)
    http_requests: int = 0
    http_errors: int = 0
    http_error_kinds: dict[str, int] = field(default_factory=dict)
    mqtt_sent: list[tuple[int, int, mqtt.MQTTMessageInfo]] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)
    stop: threading.Event = field(default_factory=threading.Event)


class Services:
    def __init__(self, env: dict[str, str], work: Path, port: int) -> None:
        self.env, self.work, self.port = env, work, port
        self.serve: object = None
        self.consumer: object = None

    def start_serve(self) -> None:
        self.serve = cm.start(
            [cm.GMINA, "serve", "--bind", f"127.0.0.1:{self.port}", "--workers", "2"], self.env, self.work / "serve.log"
        )
        cm.wait_for(lambda: cm.port_open(self.port), 60, "gmina serve")

    def start_consumer(self, duration: float) -> None:
        self.consumer = cm.start(
            [
                cm.GMINA,
                "mqtt",
                "--host",
                "127.0.0.1",
                "--port",
                "1883",
                "--client-id",
                CONSUMER_ID,
                "--duration",
                str(duration),
            ],
            self.env,
            self.work / "mqtt.log",
        )

    def stop_all(self) -> None:
        for proc in (self.serve, self.consumer):
            if proc is not None:
                cm.stop(proc, timeout=15)  # type: ignore[arg-type]


def http_worker(
    load: Load,
    port: int,
    token: str,
    meters: int,
    batch: int,
    run: int,
    tid: int,
    nthreads: int,
    interval: float,
    deadline: float,
) -> None:
    blocks = meters // batch
    g = tid
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    headers = {"Content-Type": "application/json", "Authorization": f"Bearer {token}"}
    next_at = time.monotonic()
    while not load.stop.is_set() and time.monotonic() < deadline:
        next_at += interval
        block, hour = g % blocks, run * HOURS_PER_RUN + g // blocks
        g += nthreads
        t = stamp(hour).strftime("%Y-%m-%dT%H:%M:%SZ")
        ms = range(block * batch, block * batch + batch)
        body = json.dumps(
            {"readings": [{"meter": f"B{m:07d}", "observed_at": t, "index_l": index_of(m, hour)} for m in ms]}
        ).encode()
        kind = ""
        try:
            conn.request("POST", "/api/v1/readings/batch/", body=body, headers=headers)
            resp = conn.getresponse()
            data = resp.read()
            if resp.status == 200:
                answer = json.loads(data)
                if answer["accepted"] + answer["duplicates"] != batch:
                    kind = f"200 with accepted+duplicates={answer['accepted'] + answer['duplicates']}"
                with load.lock:
                    load.http_requests += 1
                    # a 200 acknowledges every reading of the request (stored now or before)
                    load.http_acked.extend((m, hour) for m in ms)
            else:
                kind = f"HTTP {resp.status}"
        except (OSError, http.client.HTTPException) as exc:
            kind = type(exc).__name__
            conn.close()
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        if kind:
            with load.lock:
                load.http_errors += 1
                load.http_error_kinds[kind] = load.http_error_kinds.get(kind, 0) + 1
            time.sleep(0.2)
        delay = next_at - time.monotonic()
        if delay > 0:
            time.sleep(delay)
        else:
            next_at = time.monotonic()
    conn.close()


def mqtt_worker(load: Load, meters: int, run: int, rate: float, deadline: float) -> None:
    pub = mqtt.Client(callback_api_version=V2, client_id=f"gmina-faults-pub-{run}-{time.time_ns()}", clean_session=True)
    pub.max_inflight_messages_set(0)
    pub.connect("127.0.0.1", 1883)
    pub.loop_start()
    i, interval = 0, 1.0 / rate
    next_at = time.monotonic()
    while not load.stop.is_set() and time.monotonic() < deadline:
        m, hour = i % meters, run * HOURS_PER_RUN + HOURS_PER_RUN // 2 + i // meters
        body = json.dumps(
            {
                "readings": [
                    {
                        "meter": f"B{m:07d}",
                        "observed_at": stamp(hour).strftime("%Y-%m-%dT%H:%M:%SZ"),
                        "index_l": index_of(m, hour),
                    }
                ]
            }
        ).encode()
        info = pub.publish(f"{TOPIC}/{m % 50}", body, qos=1)
        with load.lock:
            load.mqtt_sent.append((m, hour, info))
        i += 1
        next_at += interval
        delay = next_at - time.monotonic()
        if delay > 0:
            time.sleep(delay)
    # give the broker time to PUBACK what is in flight
    end = time.monotonic() + 10
    while time.monotonic() < end and not all(info.is_published() for _, _, info in load.mqtt_sent[-200:]):
        time.sleep(0.05)
    pub.loop_stop()
    pub.disconnect()


def forget_session(client_id: str) -> None:
    c = mqtt.Client(callback_api_version=V2, client_id=client_id, clean_session=True)
    c.connect("127.0.0.1", 1883)
    c.loop_start()
    time.sleep(0.3)
    c.loop_stop()
    c.disconnect()


def wait_consumer_ready(run: int, ids: dict[str, int], timeout: float = 60) -> None:
    """Publish warm-up readings until one is stored: the consumer is connected and subscribed.

    (A message published before the consumer's first SUBSCRIBE has no subscriber and is discarded
    by the broker, PUBACK or not: that is MQTT, not a loss of gmina's.)
    """
    pub = mqtt.Client(callback_api_version=V2, client_id=f"gmina-faults-warm-{time.time_ns()}", clean_session=True)
    pub.connect("127.0.0.1", 1883)
    pub.loop_start()
    try:
        deadline = time.monotonic() + timeout
        k = 0
        while time.monotonic() < deadline:
            hour = run * HOURS_PER_RUN + HOURS_PER_RUN * 19 // 20 + k
            body = {
                "readings": [
                    {
                        "meter": "B0000000",
                        "observed_at": stamp(hour).strftime("%Y-%m-%dT%H:%M:%SZ"),
                        "index_l": index_of(0, hour),
                    }
                ]
            }
            pub.publish(f"{TOPIC}/warm", json.dumps(body).encode(), qos=1).wait_for_publish(5)
            end = time.monotonic() + 1.0
            while time.monotonic() < end:
                with connect() as conn:
                    found = conn.execute(
                        "SELECT 1 FROM water_reading WHERE meter_id = %s AND observed_at = %s",
                        (ids["B0000000"], stamp(hour)),
                    ).fetchone()
                if found:
                    return
                time.sleep(0.1)
            k += 1
        raise TimeoutError("the MQTT consumer stored no warm-up message within 60 s")
    finally:
        pub.loop_stop()
        pub.disconnect()


def drain(keys: list[tuple[int, int]], ids: dict[str, int], timeout: float, settle: float) -> float:
    """Wait until every key is stored, or nothing new is stored for ``settle`` s, or ``timeout``."""
    t0 = time.monotonic()
    last, last_change = -1, time.monotonic()
    while time.monotonic() - t0 < timeout:
        lost, _ = missing(keys, ids)
        if lost == 0:
            break
        now = stored_count()
        if now != last:
            last, last_change = now, time.monotonic()
        elif time.monotonic() - last_change > settle:
            break
        time.sleep(1.0)
    return time.monotonic() - t0


class Cluster:
    """The PostgreSQL server that a run stops with ``-m immediate`` and starts again.

    ``private`` (default): a throwaway cluster (initdb, fsync on, trust) on a free loopback port,
    owned by the ``postgres`` user, removed at the end: other work on the machine's server at
    127.0.0.1:5432 is not disturbed. ``main``: the machine's cluster itself (``pg_ctlcluster 15 main``),
    as the issue words it; every client of that server sees the outage.
    """

    def __init__(self, kind: str, work: Path) -> None:
        self.kind = kind
        self.data = work / "pgdata"
        self.sock = work / "pgsock"
        self.log = work / "postgres.log"
        self.port = cm.PG_PORT

    def _pg_ctl(self, *args: str, timeout: float = 120) -> None:
        cmd = ["runuser", "-u", "postgres", "--", f"{PG_BIN}/pg_ctl", "-D", str(self.data), *args]
        subprocess.run(cmd, check=False, capture_output=True, timeout=timeout)

    def create(self) -> None:
        if self.kind == "main":
            cm.ensure_pg()
            return
        self.destroy()
        self.port = cm.free_port()
        for d in (self.data, self.sock):
            d.mkdir(parents=True, exist_ok=True)
            shutil.chown(d, "postgres", "postgres")
        self.log.touch()
        shutil.chown(self.log, "postgres", "postgres")
        subprocess.run(
            ["runuser", "-u", "postgres", "--", f"{PG_BIN}/initdb", "-D", str(self.data), "-U", "postgres"]
            + ["--auth=trust", "-E", "UTF8", "--locale=C.UTF-8"],
            check=True,
            capture_output=True,
            timeout=120,
        )
        with (self.data / "postgresql.conf").open("a") as conf:
            conf.write(f"listen_addresses = '127.0.0.1'\nport = {self.port}\nunix_socket_directories = '{self.sock}'\n")
        cm.PG_PORT = self.port  # every helper of _common and this script reads it at call time
        self.start()

    def stop(self) -> None:
        if self.kind == "main":
            subprocess.run(
                ["pg_ctlcluster", "--skip-systemctl-redirect", "15", "main", "stop", "-m", "immediate"],
                check=False,
                capture_output=True,
                timeout=60,
            )
        else:
            self._pg_ctl("stop", "-m", "immediate", timeout=60)

    def start(self) -> None:
        if self.kind == "main":
            subprocess.run(
                ["pg_ctlcluster", "--skip-systemctl-redirect", "15", "main", "start"],
                check=False,
                capture_output=True,
                timeout=120,
            )
        else:
            self._pg_ctl("start", "-w", "-l", str(self.log))
        cm.wait_for(cm.pg_ready, 120, "PostgreSQL to accept connections")

    def destroy(self) -> None:
        if self.kind == "main":
            if not cm.pg_ready():
                self.start()
            return
        if (self.data / "postmaster.pid").exists():
            self._pg_ctl("stop", "-m", "fast", timeout=60)
        shutil.rmtree(self.data, ignore_errors=True)


def connect() -> psycopg.Connection:  # type: ignore[type-arg]
    return psycopg.connect(host=cm.PG_HOST, port=cm.PG_PORT, user=cm.PG_USER, dbname=DB, autocommit=True)


def missing(keys: list[tuple[int, int]], ids: dict[str, int]) -> tuple[int, int]:
    """(acknowledged keys not stored, stored with another index)."""
    with connect() as conn, conn.cursor() as cur:
        cur.execute("CREATE TEMPORARY TABLE ack (meter_id bigint, observed_at timestamptz, index_l bigint)")
        with cur.copy("COPY ack (meter_id, observed_at, index_l) FROM STDIN") as copy:
            for m, hour in keys:
                copy.write_row((ids[f"B{m:07d}"], stamp(hour), index_of(m, hour)))
        cur.execute(
            "SELECT count(*) FILTER (WHERE r.meter_id IS NULL), count(*) FILTER (WHERE r.index_l <> a.index_l)"
            " FROM ack a LEFT JOIN water_reading r ON r.meter_id = a.meter_id AND r.observed_at = a.observed_at"
        )
        lost, changed = cur.fetchone()  # type: ignore[misc]
        return int(lost), int(changed)


def stored_count() -> int:
    with connect() as conn:
        return int(conn.execute("SELECT count(*) FROM water_reading").fetchone()[0])  # type: ignore[index]


def duplicate_keys() -> int:
    with connect() as conn:
        return int(
            conn.execute(
                "SELECT count(*) FROM (SELECT meter_id, observed_at FROM water_reading"
                " GROUP BY meter_id, observed_at HAVING count(*) > 1) d"
            ).fetchone()[0]
        )  # type: ignore[index]


def broker_drops(offset: int) -> int:
    try:
        with MOSQUITTO_LOG.open("rb") as f:
            f.seek(offset)
            text = f.read().decode(errors="replace")
    except OSError:
        return -1
    return sum(1 for line in text.splitlines() if "dropped" in line.lower() and CONSUMER_ID in line)


def log_size() -> int:
    try:
        return MOSQUITTO_LOG.stat().st_size
    except OSError:
        return 0


def one_run(
    run: int,
    fault: str,
    args: argparse.Namespace,
    env: dict[str, str],
    token: str,
    ids: dict[str, int],
    work: Path,
    cluster: Cluster,
) -> dict[str, object]:
    rng = random.Random(args.seed * 1000 + run)
    port = cm.free_port()
    services = Services(env, work, port)
    load = Load()
    log_offset = log_size()
    mqtt_log = work / "mqtt.log"
    mqtt_log_offset = mqtt_log.stat().st_size if mqtt_log.exists() else 0
    result: dict[str, object] = {"run": run + 1, "fault": fault}
    threads: list[threading.Thread] = []
    try:
        services.start_serve()
        services.start_consumer(duration=args.load + args.after + 2 * args.drain_timeout + 300)
        wait_consumer_ready(run, ids)
        total = args.fault_at_max + args.after + 2
        deadline = time.monotonic() + total + 60
        interval = args.http_threads / args.http_rate
        for tid in range(args.http_threads):
            threads.append(
                threading.Thread(
                    target=http_worker,
                    args=(load, port, token, args.meters, args.batch, run, tid, args.http_threads, interval, deadline),
                )
            )
        threads.append(threading.Thread(target=mqtt_worker, args=(load, args.meters, run, args.mqtt_rate, deadline)))
        for t in threads:
            t.start()
        fault_at = rng.uniform(args.fault_at_min, args.fault_at_max)
        time.sleep(fault_at)
        t_fault = time.monotonic()
        if fault == "gunicorn":
            cm.kill_tree(services.serve)  # type: ignore[arg-type]  # master and workers, SIGKILL
            services.serve.wait(10)  # type: ignore[attr-defined]
            time.sleep(rng.uniform(0.2, 2.0))
            services.start_serve()
        elif fault == "consumer":
            cm.kill_tree(services.consumer)  # type: ignore[arg-type]
            services.consumer.wait(10)  # type: ignore[attr-defined]
            time.sleep(rng.uniform(0.2, 2.0))
            services.start_consumer(duration=args.after + 2 * args.drain_timeout + 300)
        else:
            cluster.stop()
            time.sleep(rng.uniform(0.5, 3.0))
            cluster.start()
        result["fault_at"] = f"{fault_at:.1f}"
        result["down_s"] = f"{time.monotonic() - t_fault:.1f}"
        time.sleep(args.after)
        load.stop.set()
        for t in threads:
            t.join(timeout=90)
        # drain: wait until every acknowledged key is stored, or progress stops
        acked_mqtt = [(m, h) for m, h, info in load.mqtt_sent if info.is_published()]
        keys = load.http_acked + acked_mqtt
        result["drain_s"] = f"{drain(keys, ids, args.drain_timeout, args.settle):.1f}"
        consumer_alive = services.consumer is not None and services.consumer.poll() is None  # type: ignore[attr-defined]
        result["consumer_alive"] = consumer_alive
        with (work / "mqtt.log").open("rb") as f:  # the storing thread died (process alive, nothing stored)
            f.seek(mqtt_log_offset)
            result["store_thread_died"] = f.read().count(b"Exception in thread gmina-mqtt-store")
        lost_http, changed_http = missing(load.http_acked, ids)
        lost_mqtt, changed_mqtt = missing(acked_mqtt, ids)
        result.update(
            http_acked=len(load.http_acked),
            http_err=load.http_errors,
            http_err_kinds=", ".join(f"{k}×{v}" for k, v in sorted(load.http_error_kinds.items())) or "—",
            lost_http=lost_http + changed_http,
            mqtt_pubacked=len(acked_mqtt),
            mqtt_unacked=len(load.mqtt_sent) - len(acked_mqtt),
            lost_mqtt=lost_mqtt + changed_mqtt,
            dup_keys=duplicate_keys(),
            broker_drops=broker_drops(log_offset),
        )
        # Not stored while the consumer ran: restart it (the broker still holds what it never
        # acknowledged) and see whether the readings arrive then: a stall, not a loss, if they do.
        result["mqtt_after_restart"] = "—"
        if lost_mqtt + changed_mqtt:
            cm.stop(services.consumer, timeout=15)  # type: ignore[arg-type]
            services.start_consumer(duration=args.drain_timeout + 120)
            drain(acked_mqtt, ids, args.drain_timeout, args.settle)
            lost2, changed2 = missing(acked_mqtt, ids)
            result["mqtt_after_restart"] = lost2 + changed2
            result["dup_keys"] = duplicate_keys()
        with connect() as conn:
            row = conn.execute(
                "SELECT coalesce(sum(duplicates), 0), coalesce(sum(quarantined), 0)"
                " FROM water_importbatch WHERE started_at > now() - interval '10 minutes'"
            ).fetchone()
        result["redelivered_dups"], result["quarantined"] = int(row[0]), int(row[1])  # type: ignore[index]
    finally:
        load.stop.set()
        for t in threads:
            t.join(timeout=30)
        services.stop_all()
        if not cm.pg_ready():
            cluster.start()
    return result


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--runs", type=int, default=20)
    ap.add_argument("--meters", type=int, default=2000)
    ap.add_argument("--batch", type=int, default=500, help="readings per HTTP request")
    ap.add_argument("--http-threads", type=int, default=2)
    ap.add_argument("--http-rate", type=float, default=20, help="HTTP requests/s, all threads together")
    ap.add_argument("--mqtt-rate", type=float, default=50, help="MQTT messages/s")
    ap.add_argument("--fault-at-min", type=float, default=2.0, help="earliest fault, seconds into the load")
    ap.add_argument("--fault-at-max", type=float, default=8.0)
    ap.add_argument("--after", type=float, default=6.0, help="seconds of load after the restart")
    ap.add_argument(
        "--load", type=float, default=20.0, help="(upper bound of load seconds, for the consumer's --duration)"
    )
    ap.add_argument("--settle", type=float, default=15.0, help="drain ends when nothing new is stored for this long")
    ap.add_argument("--drain-timeout", type=float, default=90.0)
    ap.add_argument("--fault", choices=FAULTS, action="append", help="only these faults (default: rotate all)")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument(
        "--pg",
        choices=["private", "main"],
        default="private",
        help="which PostgreSQL to stop: a throwaway cluster on a free port (default; leaves the machine's "
        "server alone) or the machine's cluster 15/main at 127.0.0.1:5432 (every client sees the outage)",
    )
    ap.add_argument("--quick", action="store_true", help="smoke test: 3 runs (one of each fault), shorter drain")
    args = ap.parse_args()
    if args.quick:
        args.runs, args.drain_timeout, args.settle, args.after = 3, 30, 8, 4
    faults = args.fault or list(FAULTS)

    work = cm.SCRATCH / "faults"
    work.mkdir(parents=True, exist_ok=True)
    cluster = Cluster(args.pg, work)
    results = []
    failed = False
    try:
        cluster.create()
        cm.log(f"PostgreSQL ({args.pg}) at 127.0.0.1:{cm.PG_PORT}")
        cm.recreate_pg_db(DB)
        env = cm.gmina_env(work / "data", cm.pg_url(DB))
        cm.migrate(env)
        fx = cm.fixture(env, meters=args.meters, token=True, mqtt_topic=f"{TOPIC}/#", mqtt_format="gmina", ids=True)
        token, ids = str(fx["token"]), fx["meter_ids"]
        forget_session(CONSUMER_ID)
        cm.print_machine()
        for run in range(args.runs):
            fault = faults[run % len(faults)]
            cm.log(f"run {run + 1}/{args.runs}: {fault}")
            try:
                res = one_run(run, fault, args, env, token, ids, work, cluster)  # type: ignore[arg-type]
            except Exception as exc:  # noqa: BLE001 - record the run as failed and go on
                cm.log(f"run {run + 1} aborted: {exc!r}")
                res = {"run": run + 1, "fault": fault, "error": repr(exc)[:200]}
                failed = True
            results.append(res)
            cm.log(f"run {run + 1}: {json.dumps(res, default=str)}")
            if res.get("lost_http") or res.get("lost_mqtt") or res.get("dup_keys"):
                failed = True
    finally:
        forget_session(CONSUMER_ID)
        cluster.destroy()

    cols = [
        "run",
        "fault",
        "fault_at",
        "down_s",
        "http_acked",
        "http_err",
        "http_err_kinds",
        "lost_http",
        "mqtt_pubacked",
        "mqtt_unacked",
        "lost_mqtt",
        "mqtt_after_restart",
        "broker_drops",
        "dup_keys",
        "redelivered_dups",
        "quarantined",
        "drain_s",
        "consumer_alive",
        "store_thread_died",
    ]
    print(
        f"\nFault injection, {args.runs} runs, HTTP {args.http_rate:g} req/s × {args.batch} readings, "
        f"MQTT {args.mqtt_rate:g} msg/s\n"
    )
    print(cm.table(cols + ["error"], [[r.get(c, "") for c in cols] + [r.get("error", "")] for r in results]))
    done = [r for r in results if "error" not in r]
    total = {
        k: sum(int(r[k]) for r in done)
        for k in ("http_acked", "lost_http", "mqtt_pubacked", "lost_mqtt", "dup_keys", "redelivered_dups", "http_err")
    }
    print(
        "\n**Summary**: "
        + ", ".join(f"{k} {v:,}" for k, v in total.items())
        + f"; runs completed {len(done)}/{len(results)}; per fault: "
        + "; ".join(
            f"{f}: {sum(1 for r in done if r['fault'] == f and not (r['lost_http'] or r['lost_mqtt']))}"
            f"/{sum(1 for r in results if r['fault'] == f)} without loss"
            for f in faults
        )
    )
    print("RESULT: " + ("FAIL (loss, duplicate or aborted run)" if failed else "PASS: 0 missing, 0 duplicate keys"))
    return 1 if failed else 0


if __name__ == "__main__":
    raise SystemExit(main())
