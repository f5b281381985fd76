"""One scenario against one freshly started broker.

The broker is started for the run and stopped after it, so its peak RSS belongs to
this scenario alone. Its CPU time (utime + stime, all threads) is read from /proc just
before the load starts and just after it ends; the difference is the run's cost.
"""
import json
import re
import signal
import subprocess
import threading
import time
from dataclasses import dataclass

from . import procfs, scenarios

# Numbers are grouped by thousands: "conn 9,500/9,500  fail 0".
PROGRESS = re.compile(r"conn ([\d,]+)/([\d,]+)\s+fail ([\d,]+)")


def last_json_line(text: str) -> dict:
    for line in reversed(text.splitlines()):
        line = line.strip()
        if line.startswith("{"):
            return json.loads(line)
    raise ValueError("cicada-bench printed no JSON line:\n" + text[-2000:])


@dataclass(frozen=True)
class Settings:
    """What the command line decided: binaries, durations, tool threads."""

    bench_binary: str
    duration_s: float
    drain_s: float
    bench_threads: int
    conn_rate: int  # connections started per second by each conn process
    conn_settle_s: float  # wait after the last connection before reading RSS


def _bench(settings, port, args):
    """The full command: args[0] is the sub-command, the rest its flags."""
    subcommand, *flags = args
    return [settings.bench_binary, subcommand, "-h", "127.0.0.1", "-p", str(port),
            "--threads", str(settings.bench_threads), *flags]


def run_pubsub(scenario, broker, settings) -> dict:
    cmd = _bench(settings, broker.port, list(scenario.args)) + [
        "-d", str(settings.duration_s), "--drain", str(settings.drain_s), "-Q",
        "--max-fail", "100"]
    timeout = settings.duration_s + settings.drain_s + 120
    out = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout)
    result = last_json_line(out.stdout)
    return {"command": cmd, "results": [result],
            "figures": scenarios.pubsub_figures(result, settings.duration_s),
            "stderr": out.stderr[-2000:]}


class _Follower(threading.Thread):
    """Reads one conn process's stdout, remembering its latest progress line."""

    def __init__(self, process):
        super().__init__(daemon=True)
        self.process = process
        self.lines = []
        self.connected = self.total = self.failed = 0

    def run(self):
        for line in self.process.stdout:
            self.lines.append(line)
            match = PROGRESS.search(line)
            if match:
                self.connected, self.total, self.failed = (int(g.replace(",", ""))
                                                           for g in match.groups())

    def settled(self) -> bool:
        return self.total > 0 and self.connected + self.failed >= self.total


def run_conn(scenario, broker, settings, rss_before_kib) -> dict:
    """Opens the connections, waits until every process has them all up (or failed),
    lets the broker settle, reads its RSS, then ends the processes with SIGINT (their
    graceful stop: DISCONNECT, then the JSON line)."""
    hold_s = 600  # an upper bound; the harness ends the processes itself
    commands = [_bench(settings, broker.port, args)
                for args in scenarios.conn_commands(scenario, settings.conn_rate, hold_s)]
    processes, followers = [], []
    for cmd in commands:
        p = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        processes.append(p)
        followers.append(_Follower(p))
        followers[-1].start()
    deadline = time.monotonic() + 120
    while not all(f.settled() for f in followers):
        if time.monotonic() > deadline or any(p.poll() is not None for p in processes):
            break
        time.sleep(0.1)
    time.sleep(settings.conn_settle_s)
    loaded = procfs.memory_kib(broker.pid) if broker.alive() else {}
    for p in processes:
        if p.poll() is None:
            p.send_signal(signal.SIGINT)
    results, errors = [], []
    for p, f in zip(processes, followers):
        try:
            p.wait(timeout=60)
        except subprocess.TimeoutExpired:
            p.kill()
            p.wait()
        f.join(timeout=5)
        errors.append(p.stderr.read()[-1000:])
        results.append(last_json_line("".join(f.lines)))
    rss_loaded = loaded.get("VmRSS", rss_before_kib)
    return {"command": commands, "results": results, "rss_loaded_kib": rss_loaded,
            "figures": scenarios.conn_figures(results, rss_before_kib, rss_loaded),
            "stderr": "".join(errors)}


def run_once(scenario, broker, settings) -> dict:
    """Starts the broker, runs the scenario, stops the broker; returns the raw run."""
    broker.start()
    try:
        time.sleep(0.2)  # let its workers finish starting before the baseline
        before = procfs.memory_kib(broker.pid)
        cpu_before = procfs.cpu_times(broker.pid)
        started = time.time()
        if scenario.kind == "conn":
            run = run_conn(scenario, broker, settings, before.get("VmRSS", 0))
        else:
            run = run_pubsub(scenario, broker, settings)
        if not broker.alive():
            raise RuntimeError(f"{broker.name} died during {scenario.name}:\n{broker.log()}")
        cpu = procfs.cpu_times(broker.pid) - cpu_before
        after = procfs.memory_kib(broker.pid)
    finally:
        broker.stop()
    run["proc"] = {
        "cpu_user_s": cpu.user_s,
        "cpu_sys_s": cpu.system_s,
        "rss_before_kib": before.get("VmRSS"),
        "rss_after_kib": after.get("VmRSS"),
        "peak_rss_kib": after.get("VmHWM"),
    }
    run["figures"]["cpu_s"] = cpu.total_s
    run["figures"]["peak_rss_mib"] = after.get("VmHWM", 0) / 1024.0
    run["started"] = started
    run["wall_s"] = time.time() - started
    return run
