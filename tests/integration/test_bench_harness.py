"""The pure parts of scripts/bench's harness (bench/harness): aggregation over rounds,
the bar and the table, figure extraction from cicada-bench's JSON line, and /proc
parsing on this test's own process. Nothing here runs a benchmark or asserts a timing.

ctest passes --cicada PATH to every integration test (conftest.py declares it); these
tests do not need the broker and ignore it.
"""
import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "..", "bench"))

from harness import bar, chart, procfs, scenarios, table  # noqa: E402
from harness.stats import Spread, ratio, spread  # noqa: E402


# --- stats ---------------------------------------------------------------------------

def test_spread_is_median_min_max_of_the_rounds():
    s = spread([30.0, 10.0, 20.0])
    assert (s.median, s.min, s.max, s.n) == (20.0, 10.0, 30.0, 3)


def test_spread_of_an_even_count_takes_the_middle_mean():
    assert spread([1, 2, 3, 10]).median == 2.5


def test_spread_leaves_out_missing_rounds_and_is_none_without_any():
    s = spread([None, 4.0, None, 8.0])
    assert (s.median, s.n) == (6.0, 2)
    assert spread([None, None]) is None
    assert spread([]) is None


def test_ratio_is_cicada_median_over_mosquitto_median():
    assert ratio(Spread(50, 40, 60, 3), Spread(10, 9, 11, 3)) == 5.0
    assert ratio(None, Spread(10, 9, 11, 3)) is None
    assert ratio(Spread(1, 1, 1, 1), Spread(0, 0, 0, 1)) is None


# --- bar -----------------------------------------------------------------------------

def s(median):
    return Spread(median, median, median, 1)


def test_throughput_bar_needs_the_ratio():
    b = bar.Bar("ratio_at_least", 25)
    assert b.met(s(2500), s(100)) is True
    assert b.met(s(2499), s(100)) is False
    assert b.met(None, s(100)) is None
    assert b.describe() == ">= 25x"


def test_latency_bar_means_no_higher_than_mosquitto():
    b = bar.RATIO["latency_p99"]
    assert b.met(s(900), s(1000)) is True
    assert b.met(s(1000), s(1000)) is True
    assert b.met(s(1001), s(1000)) is False


def test_memory_bar_judges_cicada_alone():
    b = bar.RATIO["rss_per_conn"]
    assert b.met(s(1024), None) is True
    assert b.met(s(1025), s(100)) is False
    assert b.describe() == "<= 1024 B"


def test_advantage_reads_higher_is_better_for_every_kind():
    assert bar.Bar("ratio_at_least", 2).advantage(s(30), s(10)) == (3.0, 2)
    # latency: Cicada at half of mosquitto's p99 is 2x better; the bar needs 1x
    assert bar.RATIO["latency_p99"].advantage(s(500), s(1000)) == (2.0, 1.0)
    # memory: mosquitto 740 B, Cicada 370 B -> 2x; the bar (1024 B) is 740/1024
    achieved, needed = bar.RATIO["rss_per_conn"].advantage(s(370), s(740))
    assert achieved == 2.0 and abs(needed - 740 / 1024) < 1e-12


def test_every_bar_of_issue_6_is_attached_to_a_scenario():
    bars = {(sc.name, m.key): m.bar.describe()
            for sc in scenarios.SCENARIOS for m in sc.metrics if m.bar}
    assert bars == {
        ("fanin-q0", "delivered_per_s"): ">= 25x",
        ("fanin-q1", "delivered_per_s"): ">= 40x",
        ("fanout", "delivered_per_s"): ">= 2.5x",
        ("pairs", "p99_us"): "<= 1x",
        ("latency", "p99_us"): "<= 1x",
        ("conn-10k", "connect_per_s"): ">= 2x",
        ("conn-10k", "rss_per_conn"): "<= 1024 B",
        ("conn-19k", "connect_per_s"): ">= 2x",
        ("conn-19k", "rss_per_conn"): "<= 1024 B",
        ("payload-64k", "bytes_per_s"): ">= 1x",
    }


# --- scenarios: command lines and figures ------------------------------------------

def test_pairs_subscriber_i_listens_to_publisher_i_only():
    args = scenarios.BY_NAME["pairs"].args
    assert args[args.index("-t") + 1] == "pairs/%i"
    assert args[args.index("--sub-topic") + 1] == "pairs/%i"
    assert args[args.index("--rate") + 1] == "10000"
    assert args[args.index("-q") + 1] == "1"


def test_conn_processes_share_the_connections_with_their_own_ranges_and_sources():
    commands = scenarios.conn_commands(scenarios.BY_NAME["conn-19k"], 20000, 60)
    assert len(commands) == 2
    counts = [int(c[c.index("-c") + 1]) for c in commands]
    starts = [int(c[c.index("-n") + 1]) for c in commands]
    assert sum(counts) == 19000 and max(counts) < 20000
    assert starts == [0, counts[0]]
    sources = [c[c.index("--ifaddr") + 1] for c in commands]
    assert len(set(sources)) == 2
    assert len({c[c.index("--prefix") + 1] for c in commands}) == 2


def test_pubsub_figures_from_the_json_line():
    line = {"received": 900, "foreign": 0, "lost": 100, "received_per_s": 1500.0,
            "payload_bytes": 1024, "sent": 1000, "sent_per_s": 1e6,
            "latency_us": {"p50": 10.0, "p90": 20.0, "p99": 30.0, "p99_9": 40.0}}
    f = scenarios.pubsub_figures(line, duration_s=10)
    assert f["delivered_per_s"] == 1500.0
    assert f["published_per_s"] == 100.0  # over the load window, not first-to-last send
    assert f["bytes_per_s"] == 1500.0 * 1024
    assert f["loss_pct"] == 10.0
    assert (f["p50_us"], f["p99_us"], f["p999_us"]) == (10.0, 30.0, 40.0)


def test_pubsub_figures_without_subscribers_or_latency():
    f = scenarios.pubsub_figures({"received": 0, "lost": None, "latency_us": None}, 10)
    assert f["loss_pct"] is None and f["p99_us"] is None and f["delivered_per_s"] == 0


def test_conn_figures_take_the_longest_phase_and_the_rss_growth():
    results = [{"connected": 5000, "connect_s": 0.5, "conn_failed": 0, "conn_lost": 0,
                "connect_ms": {"p99": 3.0}},
               {"connected": 5000, "connect_s": 1.0, "conn_failed": 2, "conn_lost": 1,
                "connect_ms": {"p99": 7.0}}]
    f = scenarios.conn_figures(results, rss_before_kib=1000, rss_loaded_kib=1000 + 10000)
    assert f["connect_per_s"] == 10000.0
    assert f["rss_per_conn"] == 1024.0
    assert f["failed"] == 3
    assert f["connect_p99_ms"] == 7.0


# --- table and chart ----------------------------------------------------------------

def runs_for(scenario, cicada_values, mosquitto_values, key):
    out = []
    for broker, values in (("cicada", cicada_values), ("mosquitto", mosquitto_values)):
        for i, v in enumerate(values):
            out.append({"round": i + 1, "scenario": scenario, "broker": broker,
                        "figures": {key: v}})
    return out


def test_rows_aggregate_per_broker_and_judge_the_bar():
    sc = scenarios.BY_NAME["fanout"]
    runs = runs_for("fanout", [300, 250, 280], [100, 110, 90], "delivered_per_s")
    runs.append({"round": 4, "scenario": "fanout", "broker": "cicada", "error": "boom"})
    rows = table.build_rows([sc], runs)
    row = next(r for r in rows if r.metric == "delivered_per_s")
    assert (row.cicada.median, row.cicada.min, row.cicada.max) == (280, 250, 300)
    assert row.mosquitto.median == 100
    assert row.ratio == 2.8
    assert row.met is True
    assert row.as_dict()["bar"] == ">= 2.5x"


def test_rendered_table_shows_median_range_ratio_and_verdict():
    sc = scenarios.BY_NAME["fanin-q0"]
    rows = table.build_rows([sc], runs_for("fanin-q0", [2e6, 1.5e6, 2.5e6], [1e5] * 3,
                                           "delivered_per_s"))
    text = table.render(rows)
    assert "2M [1.5M-2.5M]" in text
    assert "100k [100k-100k]" in text
    assert "20x" in text
    assert ">= 25x NOT MET" in text
    md = table.render(rows, markdown=True)
    assert md.splitlines()[0].startswith("| scenario |")


def test_number_formatting():
    assert table.number(None) == "-"
    assert table.number(0) == "0"
    assert table.number(1234567) == "1.23M"
    assert table.number(45600) == "45.6k"
    assert table.number(789.4) == "789"
    assert table.number(0.4567) == "0.457"


def test_chart_data_holds_only_rows_with_a_bar_and_both_sides():
    sc = scenarios.BY_NAME["fanout"]
    rows = table.build_rows([sc], runs_for("fanout", [300], [100], "delivered_per_s"))
    assert chart.chart_data(rows) == [("fanout delivered_per_s", 3.0, 2.5)]


# --- /proc -----------------------------------------------------------------------------

def test_stat_parsing_survives_spaces_and_parentheses_in_the_name():
    fields = ["S"] + ["0"] * 10 + ["250", "50"] + ["0"] * 30
    text = "1234 (we (ird) name) " + " ".join(fields)
    t = procfs.parse_stat(text)
    assert t.user_s == 250 / procfs.CLOCK_TICKS
    assert t.system_s == 50 / procfs.CLOCK_TICKS


def test_own_process_cpu_time_and_memory():
    before = procfs.cpu_times(os.getpid())
    sum(i * i for i in range(200000))  # some CPU, however little
    after = procfs.cpu_times(os.getpid())
    assert after.total_s >= before.total_s >= 0
    mem = procfs.memory_kib(os.getpid())
    assert mem["VmRSS"] > 0
    assert mem["VmHWM"] >= mem["VmRSS"]


def test_status_parsing_keeps_only_kib_lines():
    parsed = procfs.parse_status("Name:\tcicada\nVmHWM:\t  2048 kB\nVmRSS:\t1024 kB\nThreads:\t3\n")
    assert parsed == {"VmHWM": 2048, "VmRSS": 1024}


def test_listening_ports_sees_a_socket_of_this_process():
    import socket
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        sock.listen(1)
        assert sock.getsockname()[1] in procfs.listening_ports()


# --- flags ---------------------------------------------------------------------------

def test_quick_means_one_short_round_unless_told_otherwise():
    from harness.main import parse_args
    quick = parse_args(["--quick"])
    assert (quick.rounds, quick.duration, quick.drain) == (1, 2, 2)
    assert parse_args(["--quick", "--rounds", "3"]).rounds == 3
    full = parse_args([])
    assert (full.rounds, full.duration) == (3, 10)
    assert parse_args(["--only", "pairs", "--only", "latency"]).only == ["pairs", "latency"]
