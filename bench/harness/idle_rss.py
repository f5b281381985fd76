"""Broker memory per idle connection, Cicada alone, the way the conn scenarios count it.

    PYTHONPATH=bench /usr/bin/python3 -m harness.idle_rss [--connections 10000] [--rounds 3]

Each round starts a fresh release broker, opens the connections with the conn-10k
scenario's `cicada-bench conn` processes (same flags, same 127.0.0.x source addresses),
waits a second once all are up, and reads /proc/PID/status. It prints VmRSS per
connection (the figure scripts/bench reports) and RssAnon per connection (the heap
alone, without the pages of the binary and the libraries the first connections touch),
both as (loaded - fresh broker) / connections. No throughput load: it is quick, and
meaningful on a busy machine, where the throughput scenarios are not.
"""
import argparse
import os
import statistics
import tempfile
import time

from . import brokers, procfs, runner
from .scenarios import Scenario

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))


def measure(args, workdir) -> dict:
    broker = brokers.Cicada(workdir, args.cicada, args.broker_threads)
    settings = runner.Settings(args.cicada_bench, 0, 0, 1, args.conn_rate, conn_settle_s=1.0)
    scenario = Scenario("idle", "idle connections", "conn", connections=args.connections,
                        processes=2)
    broker.start()
    try:
        time.sleep(0.2)  # as runner.run_once: let the workers finish starting
        before = procfs.memory_kib(broker.pid)
        loaded = {}
        # run_conn reads VmRSS itself; wrap the read so RssAnon comes from the same moment.
        original = procfs.memory_kib

        def spy(pid):
            status = original(pid)
            if pid == broker.pid and not loaded:
                loaded.update(status)
            return status

        procfs.memory_kib = spy
        runner.procfs.memory_kib = spy
        try:
            run = runner.run_conn(scenario, broker, settings, before.get("VmRSS", 0))
        finally:
            procfs.memory_kib = original
            runner.procfs.memory_kib = original
    finally:
        broker.stop()
    connected = run["figures"]["connected"]
    if not connected or not loaded:
        raise RuntimeError("no connection came up:\n" + run.get("stderr", ""))

    def per_connection(key):
        return (loaded[key] - before[key]) * 1024.0 / connected

    return {"connected": connected, "vmrss": per_connection("VmRSS"),
            "rssanon": per_connection("RssAnon"), "before_kib": before["VmRSS"],
            "loaded_kib": loaded["VmRSS"]}


def main(argv=None):
    p = argparse.ArgumentParser(prog="harness.idle_rss", description=__doc__.split("\n")[0])
    p.add_argument("--connections", type=int, default=10000)
    p.add_argument("--rounds", type=int, default=3)
    p.add_argument("--conn-rate", type=int, default=20000,
                   help="connections started per second by each conn process")
    p.add_argument("--broker-threads", type=int, default=0)
    p.add_argument("--cicada", default=os.path.join(ROOT, "build/release/apps/cicada/cicada"))
    p.add_argument("--cicada-bench",
                   default=os.path.join(ROOT, "build/release/apps/cicada-bench/cicada-bench"))
    args = p.parse_args(argv)
    rows = []
    with tempfile.TemporaryDirectory(prefix="cicada-idle-rss-") as workdir:
        for round_no in range(1, args.rounds + 1):
            row = measure(args, workdir)
            rows.append(row)
            print(f"round {round_no}: {row['connected']:,} connected, VmRSS "
                  f"{row['before_kib']:,} -> {row['loaded_kib']:,} KiB, "
                  f"{row['vmrss']:,.0f} B/conn (RssAnon {row['rssanon']:,.0f} B/conn)",
                  flush=True)
    print(f"median: VmRSS {statistics.median(r['vmrss'] for r in rows):,.0f} B/conn, "
          f"RssAnon {statistics.median(r['rssanon'] for r in rows):,.0f} B/conn")


if __name__ == "__main__":
    main()
