"""The issue-6 scenarios: what cicada-bench runs for each, and which figures come out.

A pubsub scenario is one cicada-bench process; its final JSON line gives the figures.
A connection scenario is several `cicada-bench conn` processes (a process may hold a
little under 20,000 descriptors), each with its own source addresses, client-id prefix
and index range; the harness holds them until all are connected, reads the broker's
RSS, then stops them.
"""
from dataclasses import dataclass
from typing import Optional

from .bar import RATIO, Bar


@dataclass(frozen=True)
class Metric:
    key: str
    label: str
    lower_is_better: bool = False
    bar: Optional[Bar] = None


@dataclass(frozen=True)
class Scenario:
    name: str
    title: str
    kind: str  # "pubsub" or "conn"
    args: tuple = ()  # cicada-bench pubsub flags (not host, port, duration)
    metrics: tuple = ()
    connections: int = 0  # conn: idle connections in all
    processes: int = 1  # conn: cicada-bench processes sharing them


def _pubsub(pubs, subs, topic, qos, payload=64, rate=None, sub_topic=None, conn_rate=2000):
    args = ["pubsub", "-c", str(pubs), "--subs", str(subs), "-t", topic, "-q", str(qos),
            "-s", str(payload), "-R", str(conn_rate)]
    args += ["--rate", str(rate)] if rate else ["-I", "0"]
    if sub_topic:
        args += ["--sub-topic", sub_topic]
    return tuple(args)


THROUGHPUT = ("delivered_per_s", "delivered msg/s")
LOSS = ("loss_pct", "loss %")
# What the broker took from the publishers over the load window; what it took and did
# not deliver, it dropped.
ACCEPTED = ("published_per_s", "published msg/s")


def _latency(bar=None):
    return (Metric("p50_us", "latency p50 us", True),
            Metric("p99_us", "latency p99 us", True, bar),
            Metric("p999_us", "latency p99.9 us", True))


CONN_METRICS = (Metric("connect_per_s", "connect rate /s", bar=RATIO["connect_rate"]),
                Metric("connect_p99_ms", "connect p99 ms", True),
                Metric("rss_per_conn", "RSS per conn B", True, RATIO["rss_per_conn"]))

SCENARIOS = [
    Scenario("fanin-q0", "fan-in 8 -> 1, QoS 0, open loop", "pubsub",
             _pubsub(8, 1, "bench/%i", 0),
             (Metric(*THROUGHPUT, bar=RATIO["fanin_q0"]), Metric(*ACCEPTED), Metric(*LOSS, True))),
    Scenario("fanin-q1", "fan-in 8 -> 1, QoS 1, open loop", "pubsub",
             _pubsub(8, 1, "bench/%i", 1),
             (Metric(*THROUGHPUT, bar=RATIO["fanin_q1"]), Metric(*ACCEPTED), Metric(*LOSS, True))),
    Scenario("fanout", "fan-out 1 -> 100, QoS 0, open loop", "pubsub",
             _pubsub(1, 100, "bench/x", 0),
             (Metric(*THROUGHPUT, bar=RATIO["fanout"]), Metric(*ACCEPTED), Metric(*LOSS, True))),
    Scenario("pairs", "500 pairs, own topic each, QoS 1, 10,000 msg/s in all", "pubsub",
             _pubsub(500, 500, "pairs/%i", 1, rate=10000, sub_topic="pairs/%i", conn_rate=5000),
             _latency(RATIO["latency_p99"]) + (Metric(*LOSS, True),)),
    Scenario("latency", "fan-in 8 -> 1, QoS 0, 10,000 msg/s in all", "pubsub",
             _pubsub(8, 1, "bench/%i", 0, rate=10000),
             _latency(RATIO["latency_p99"]) + (Metric(*LOSS, True),)),
    Scenario("conn-10k", "10,000 idle connections", "conn",
             metrics=CONN_METRICS,
             connections=10000, processes=2),
    Scenario("conn-19k", "19,000 idle connections", "conn",
             metrics=CONN_METRICS,
             connections=19000, processes=2),
    Scenario("payload-1k", "fan-in 8 -> 1, QoS 1, 1 KiB payload", "pubsub",
             _pubsub(8, 1, "bench/%i", 1, payload=1024),
             (Metric("bytes_per_s", "delivered bytes/s"), Metric(*LOSS, True))),
    Scenario("payload-64k", "fan-in 8 -> 1, QoS 1, 64 KiB payload", "pubsub",
             _pubsub(8, 1, "bench/%i", 1, payload=65536),
             (Metric("bytes_per_s", "delivered bytes/s", bar=RATIO["large_payload"]),
              Metric(*LOSS, True))),
]

BY_NAME = {s.name: s for s in SCENARIOS}

# Figures every run records, shown under each scenario without a bar.
COMMON = (Metric("cpu_s", "broker CPU s (user+sys)", True),
          Metric("peak_rss_mib", "broker peak RSS MiB", True))


def conn_commands(scenario: Scenario, rate_per_process: int, hold_s: int) -> list:
    """cicada-bench conn argument lists, one per process: each its own index range,
    client-id prefix and pair of 127.0.0.x source addresses (so source ports never run
    short, whatever the kernel's ephemeral range)."""
    per = scenario.connections // scenario.processes
    commands = []
    for k in range(scenario.processes):
        count = per if k < scenario.processes - 1 else scenario.connections - per * k
        sources = f"127.0.0.{2 + 2 * k},127.0.0.{3 + 2 * k}"
        commands.append(["conn", "-c", str(count), "-n", str(per * k), "--prefix", f"idle{k}",
                         "-R", str(rate_per_process), "--ifaddr", sources,
                         "--conn-timeout", "30", "--max-fail", "100", "-d", str(hold_s)])
    return commands


def pubsub_figures(result: dict, duration_s: float) -> dict:
    """Figures of one pubsub run from cicada-bench's JSON line.

    Published msg/s is over the whole load window (-d), not cicada-bench's first-to-last
    send: a broker that stops reading a publisher after its first socket-full of
    messages (mosquitto in fan-out) would otherwise show millions per second.
    """
    received = result.get("received") or 0
    lost = result.get("lost")
    base = received - (result.get("foreign") or 0) + (lost or 0)
    latency = result.get("latency_us") or {}
    delivered = result.get("received_per_s") or 0.0
    return {
        "delivered_per_s": delivered,
        "published_per_s": (result.get("sent") or 0) / duration_s,
        "bytes_per_s": delivered * (result.get("payload_bytes") or 0),
        "loss_pct": (100.0 * lost / base) if (lost is not None and base > 0) else None,
        "p50_us": latency.get("p50"),
        "p99_us": latency.get("p99"),
        "p999_us": latency.get("p99_9"),
    }


def conn_figures(results: list, rss_before_kib: int, rss_loaded_kib: int) -> dict:
    """Figures of one connection run from its processes' JSON lines and the broker's RSS
    before the first connection and once all were up. The processes start together,
    so the connect phase is the longest of theirs."""
    connected = sum(r.get("connected") or 0 for r in results)
    phase = max((r.get("connect_s") or 0.0) for r in results) if results else 0.0
    return {
        "connected": connected,
        "failed": sum((r.get("conn_failed") or 0) + (r.get("conn_lost") or 0) for r in results),
        "connect_per_s": connected / phase if phase > 0 else None,
        # The worst process's p99: TCP connect start to CONNACK.
        "connect_p99_ms": max((r.get("connect_ms") or {}).get("p99", 0.0) for r in results)
        if results else None,
        "rss_per_conn": ((rss_loaded_kib - rss_before_kib) * 1024.0 / connected
                         if connected else None),
    }
