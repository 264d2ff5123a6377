"""Shared helpers of the benchmark scripts: databases, the gmina fixture, processes, machine facts.

Nothing here is imported by the application; the scripts run with the project's venv Python.
"""

# ruff: noqa: T201 - a benchmark script reports on stdout

from __future__ import annotations

import atexit
import contextlib
import datetime as dt
import json
import os
import platform
import re
import signal
import socket
import statistics
import subprocess
import sys
import time
from collections.abc import Iterator, Sequence
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
VENV = REPO / ".venv"
PY = str(VENV / "bin" / "python")
GMINA = str(VENV / "bin" / "gmina")
FIXTURE = str(REPO / "bench" / "_fixture.py")
PG_HOST, PG_PORT, PG_USER = "127.0.0.1", 5432, "postgres"
SCRATCH = Path(os.environ.get("GMINA_BENCH_DIR", "/tmp/gmina-bench"))
MEMBER_TERYT = "0000001"  # the bench member (a gmina: 7 digits, last digit 1-9)


def pg_url(db: str) -> str:
    return f"postgres://{PG_USER}@{PG_HOST}:{PG_PORT}/{db}"


def psql(sql: str, db: str = "postgres", *, tuples: bool = True, timeout: float = 600) -> str:
    cmd = ["psql", "-h", PG_HOST, "-p", str(PG_PORT), "-U", PG_USER, "-d", db, "-v", "ON_ERROR_STOP=1", "-X", "-q"]
    if tuples:
        cmd += ["-tA"]
    out = subprocess.run(cmd + ["-c", sql], check=True, capture_output=True, text=True, timeout=timeout)
    return out.stdout.strip()


def recreate_pg_db(db: str) -> None:
    # Another session (a killed worker's backend) may still be attached: end it first.
    psql(f"SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = '{db}' AND pid <> pg_backend_pid()")
    psql(f"DROP DATABASE IF EXISTS {db}")
    psql(f"CREATE DATABASE {db}")


def pg_running() -> bool:
    with contextlib.suppress(OSError), socket.create_connection((PG_HOST, PG_PORT), timeout=1):
        return True
    return False


def ensure_pg() -> None:
    if not pg_ready():
        subprocess.run(["pg_ctlcluster", "--skip-systemctl-redirect", "15", "main", "start"], check=False)
        wait_for(pg_ready, 60, "PostgreSQL to accept connections")


def pg_ready() -> bool:
    return subprocess.run(["pg_isready", "-h", PG_HOST, "-p", str(PG_PORT), "-q"], check=False).returncode == 0


def gmina_env(data_dir: Path, db_url: str | None = None, **extra: str) -> dict[str, str]:
    data_dir.mkdir(parents=True, exist_ok=True)
    env = {k: v for k, v in os.environ.items() if not k.startswith("GMINA_")}
    env["GMINA_DATA_DIR"] = str(data_dir)
    env["GMINA_LOG_LEVEL"] = "warning"
    if db_url:
        env["GMINA_DATABASE_URL"] = db_url
    env.update(extra)
    return env


def migrate(env: dict[str, str]) -> None:
    run = subprocess.run([GMINA, "migrate", "--no-input"], env=env, capture_output=True, text=True, timeout=600)
    if run.returncode:
        raise SystemExit(f"gmina migrate failed:\n{run.stdout[-3000:]}\n{run.stderr[-3000:]}")


def fixture(env: dict[str, str], **options: object) -> dict[str, object]:
    """Run bench/_fixture.py (member, zone, meters, token, subscription) and return its JSON answer."""
    args = [PY, FIXTURE]
    for key, value in options.items():
        if value is None or value is False:
            continue
        flag = "--" + key.replace("_", "-")
        args += [flag] if value is True else [flag, str(value)]
    run = subprocess.run(args, env=env, capture_output=True, text=True, timeout=900)
    if run.returncode:
        raise SystemExit(f"fixture failed:\n{run.stdout[-3000:]}\n{run.stderr[-3000:]}")
    return json.loads(run.stdout.strip().splitlines()[-1])


def wait_for(check, timeout: float, what: str, interval: float = 0.1) -> None:  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with contextlib.suppress(Exception):
            if check():
                return
        time.sleep(interval)
    raise TimeoutError(f"timed out after {timeout:.0f}s waiting for {what}")


def port_open(port: int, host: str = "127.0.0.1") -> bool:
    with contextlib.suppress(OSError), socket.create_connection((host, port), timeout=0.5):
        return True
    return False


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


# --- processes we start (and only those) -----------------------------------------------------

_STARTED: list[subprocess.Popen[bytes]] = []


def start(cmd: Sequence[str], env: dict[str, str] | None = None, log: Path | None = None) -> subprocess.Popen[bytes]:
    """Start a process in its own session (so its children can be ended with it), remembered for cleanup."""
    out = open(log, "ab") if log else subprocess.DEVNULL  # noqa: SIM115 - closed with the process
    proc = subprocess.Popen(list(cmd), env=env, stdout=out, stderr=subprocess.STDOUT, start_new_session=True)
    _STARTED.append(proc)
    return proc


def children_of(pid: int) -> list[int]:
    """Every descendant pid of ``pid`` (from /proc)."""
    parents: dict[int, list[int]] = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        with contextlib.suppress(OSError):
            stat = Path(f"/proc/{entry}/stat").read_text()
            ppid = int(stat.rsplit(")", 1)[1].split()[1])
            parents.setdefault(ppid, []).append(int(entry))
    found, todo = [], [pid]
    while todo:
        for child in parents.get(todo.pop(), []):
            found.append(child)
            todo.append(child)
    return found


def kill_tree(proc: subprocess.Popen[bytes], sig: int = signal.SIGKILL) -> None:
    """Send ``sig`` to a process we started and to each of its descendants, by pid."""
    if proc.poll() is not None:
        return
    pids = [proc.pid, *children_of(proc.pid)]
    for pid in pids:
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, sig)


def stop(proc: subprocess.Popen[bytes], timeout: float = 15) -> None:
    """SIGTERM, then SIGKILL after ``timeout``; also ends descendants left behind."""
    if proc.poll() is None:
        kids = children_of(proc.pid)
        with contextlib.suppress(ProcessLookupError):
            proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            kill_tree(proc)
            proc.wait(timeout=10)
        for pid in kids:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)


def cleanup() -> None:
    while _STARTED:
        proc = _STARTED.pop()
        with contextlib.suppress(Exception):
            stop(proc, timeout=10)


atexit.register(cleanup)


def _on_signal(signum: int, frame: object) -> None:
    cleanup()
    raise SystemExit(128 + signum)


for _sig in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP):
    signal.signal(_sig, _on_signal)


def time_v(cmd: Sequence[str], env: dict[str, str] | None = None, timeout: float = 7200) -> dict[str, float | str]:
    """Run under /usr/bin/time -v: wall seconds, peak RSS (MB), user/sys seconds, and the output."""
    t0 = time.perf_counter()
    run = subprocess.run(["/usr/bin/time", "-v", *cmd], env=env, capture_output=True, text=True, timeout=timeout)
    wall = time.perf_counter() - t0
    if run.returncode:
        raise RuntimeError(f"{cmd[0]} failed ({run.returncode}):\n{run.stdout[-2000:]}\n{run.stderr[-4000:]}")
    rss = re.search(r"Maximum resident set size \(kbytes\): (\d+)", run.stderr)
    user = re.search(r"User time \(seconds\): ([\d.]+)", run.stderr)
    system = re.search(r"System time \(seconds\): ([\d.]+)", run.stderr)
    return {
        "wall": wall,
        "rss_mb": int(rss.group(1)) / 1024 if rss else float("nan"),
        "user": float(user.group(1)) if user else float("nan"),
        "sys": float(system.group(1)) if system else float("nan"),
        "stdout": run.stdout,
        "stderr": run.stderr,
    }


def median(values: Sequence[float]) -> float:
    return statistics.median(values) if values else float("nan")


# --- reporting ----------------------------------------------------------------------------------


def machine() -> dict[str, str]:
    cpu = "?"
    with contextlib.suppress(OSError):
        m = re.search(r"^model name\s*:\s*(.+)$", Path("/proc/cpuinfo").read_text(), re.M)
        cpu = m.group(1) if m else "?"
    mem = subprocess.run(["free", "-h"], capture_output=True, text=True, check=False).stdout.splitlines()
    total = mem[1].split()[1] if len(mem) > 1 else "?"
    pg = "?"
    with contextlib.suppress(Exception):
        pg = psql("SHOW server_version")
    load = "?"
    with contextlib.suppress(OSError):
        load = " / ".join(Path("/proc/loadavg").read_text().split()[:3])
    return {
        "load": load,
        "date": dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M UTC"),
        "nproc": str(os.cpu_count()),
        "cpu": cpu,
        "memory": total,
        "postgresql": pg,
        "python": platform.python_version(),
    }


def print_machine() -> None:
    m = machine()
    print(
        f"_machine: {m['nproc']} cores ({m['cpu']}), {m['memory']} RAM, PostgreSQL {m['postgresql']}, "
        f"Python {m['python']}; {m['date']}; load average (1/5/15 min) {m['load']}_"
    )


def table(headers: Sequence[str], rows: Sequence[Sequence[object]]) -> str:
    def fmt(v: object) -> str:
        if isinstance(v, float):
            return f"{v:,.2f}" if abs(v) < 100 else f"{v:,.0f}"
        if isinstance(v, int):
            return f"{v:,}"
        return str(v)

    lines = ["| " + " | ".join(headers) + " |", "|" + "|".join("---" for _ in headers) + "|"]
    lines += ["| " + " | ".join(fmt(v) for v in row) + " |" for row in rows]
    return "\n".join(lines)


@contextlib.contextmanager
def phase(name: str, sink: dict[str, float]) -> Iterator[None]:
    t0 = time.perf_counter()
    try:
        yield
    finally:
        sink[name] = sink.get(name, 0.0) + time.perf_counter() - t0


def log(msg: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {msg}", file=sys.stderr, flush=True)
