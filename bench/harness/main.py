"""scripts/bench: the flags, the interleaved rounds, the table, the results file, the chart.

Rounds are the outer loop and the two brokers alternate inside each scenario
(cicada, mosquitto, cicada, mosquitto, ...), so a slow patch of the machine (another
build, a noisy neighbour) lands on both rather than on one.
"""
import argparse
import datetime
import json
import os
import shutil
import sys
import tempfile
import time

from . import brokers, chart, machine, runner, scenarios, table
from .scenarios import BY_NAME, COMMON, SCENARIOS

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))


def parse_args(argv):
    p = argparse.ArgumentParser(
        prog="scripts/bench",
        description="Cicada against mosquitto, side by side, on the issue-6 scenarios.")
    p.add_argument("--rounds", type=int, help="rounds (default 3; 1 with --quick)")
    p.add_argument("--quick", action="store_true",
                   help="a short smoke run: 1 round unless --rounds, 2 s per scenario")
    p.add_argument("--only", action="append", choices=sorted(BY_NAME), metavar="SCENARIO",
                   help="run only this scenario (repeatable): " + ", ".join(BY_NAME))
    p.add_argument("--duration", type=float, help="seconds of load per run (default 10; 2 quick)")
    p.add_argument("--drain", type=float, help="seconds to wait for stragglers (default 5; 2 quick)")
    p.add_argument("--bench-threads", type=int, default=1,
                   help="cicada-bench threads (default 1: leave the broker a core)")
    p.add_argument("--broker-threads", type=int, default=0,
                   help="cicada worker threads (default 0: one per core)")
    p.add_argument("--conn-rate", type=int, default=20000,
                   help="connections started per second by each conn process (default 20000)")
    p.add_argument("--cicada", default=os.path.join(ROOT, "build/release/apps/cicada/cicada"))
    p.add_argument("--cicada-bench",
                   default=os.path.join(ROOT, "build/release/apps/cicada-bench/cicada-bench"))
    p.add_argument("--mosquitto", default="/usr/sbin/mosquitto")
    p.add_argument("--out", default=os.path.join(ROOT, "bench/results"),
                   help="directory for <timestamp>.json/.png and latest.*")
    p.add_argument("--report", metavar="RESULTS_JSON",
                   help="run nothing: print the table of an earlier results file")
    p.add_argument("--markdown", action="store_true", help="print the table as Markdown")
    args = p.parse_args(argv)
    if args.rounds is None:
        args.rounds = 1 if args.quick else 3
    if args.duration is None:
        args.duration = 2 if args.quick else 10
    if args.drain is None:
        args.drain = 2 if args.quick else 5
    if args.rounds < 1:
        p.error("--rounds must be at least 1")
    return args


def run_all(args, scenario_list, workdir, log=print) -> list:
    settings = runner.Settings(args.cicada_bench, args.duration, args.drain, args.bench_threads,
                               args.conn_rate, conn_settle_s=1.0)
    makers = {
        "cicada": lambda: brokers.Cicada(workdir, args.cicada, args.broker_threads),
        "mosquitto": lambda: brokers.Mosquitto(workdir, args.mosquitto),
    }
    runs = []
    for round_no in range(1, args.rounds + 1):
        for scenario in scenario_list:
            for name in ("cicada", "mosquitto"):
                record = {"round": round_no, "scenario": scenario.name, "broker": name}
                t0 = time.monotonic()
                try:
                    record.update(runner.run_once(scenario, makers[name](), settings))
                except Exception as e:  # one failed run is recorded, the others go on
                    record["error"] = f"{type(e).__name__}: {e}"
                runs.append(record)
                log(progress_line(record, scenario, time.monotonic() - t0))
    return runs


def progress_line(record, scenario, seconds) -> str:
    head = f"round {record['round']}  {scenario.name:<12} {record['broker']:<10}"
    if "error" in record:
        return f"{head} FAILED: {record['error'].splitlines()[0]}"
    figures = record["figures"]
    shown = "  ".join(f"{m.label} {table.number(figures.get(m.key))}"
                      for m in (*scenario.metrics, *COMMON))
    return f"{head} {shown}  ({seconds:.0f} s)"


def report(path, markdown) -> int:
    """The table of an earlier run, from its results file."""
    with open(path) as f:
        results = json.load(f)
    # Figures are derived from the raw cicada-bench lines, so a file written before a
    # figure was added still shows it.
    for run in results["runs"]:
        if "figures" in run and BY_NAME[run["scenario"]].kind == "pubsub":
            run["figures"].update(
                scenarios.pubsub_figures(run["results"][0], results["settings"]["duration_s"]))
    names = []
    for run in results["runs"]:
        if run["scenario"] not in names:
            names.append(run["scenario"])
    rows = table.build_rows([BY_NAME[n] for n in names], results["runs"], COMMON)
    print(f"{results['command']}  ({results['timestamp']}; "
          f"{machine.one_line(results['machine'])})")
    print(table.render(rows, markdown=markdown))
    return 0


def main(argv=None):
    args = parse_args(sys.argv[1:] if argv is None else argv)
    if args.report:
        return report(args.report, args.markdown)
    for path in (args.cicada, args.cicada_bench, args.mosquitto):
        if not os.access(path, os.X_OK):
            sys.exit(f"scripts/bench: {path} is not an executable (build or install it)")
    scenario_list = [BY_NAME[n] for n in args.only] if args.only else SCENARIOS
    stamp = datetime.datetime.now(datetime.timezone.utc).strftime("%Y%m%dT%H%M%SZ")
    host = machine.describe(ROOT, args.cicada)
    print(f"scripts/bench: {args.rounds} round(s), {args.duration:g} s per run, "
          f"scenarios: {', '.join(s.name for s in scenario_list)}")
    print(f"machine: {machine.one_line(host)}; load {host['load_average'][0]:.2f}")

    workdir = tempfile.mkdtemp(prefix="cicada-bench-harness-")
    try:
        runs = run_all(args, scenario_list, workdir, log=lambda line: print(line, flush=True))
    finally:
        shutil.rmtree(workdir, ignore_errors=True)

    rows = table.build_rows(scenario_list, runs, COMMON)
    print()
    print(table.render(rows, markdown=args.markdown))

    os.makedirs(args.out, exist_ok=True)
    results = {
        "timestamp": stamp,
        "command": "scripts/bench " + " ".join(sys.argv[1:] if argv is None else argv),
        "machine": host,
        "settings": {"rounds": args.rounds, "quick": args.quick, "duration_s": args.duration,
                     "drain_s": args.drain, "bench_threads": args.bench_threads,
                     "broker_threads": args.broker_threads, "conn_rate": args.conn_rate},
        "summary": [r.as_dict() for r in rows],
        "runs": runs,
    }
    json_path = os.path.join(args.out, f"{stamp}.json")
    with open(json_path, "w") as f:
        json.dump(results, f, indent=1)
    shutil.copyfile(json_path, os.path.join(args.out, "latest.json"))
    png_path = os.path.join(args.out, f"{stamp}.png")
    problem = chart.draw(rows, png_path, f"Cicada vs mosquitto, {stamp}, "
                                         f"{machine.one_line(host)}")
    if problem is None:
        shutil.copyfile(png_path, os.path.join(args.out, "latest.png"))
    print(f"\nresults: {json_path}" + (f"\nchart: {png_path}" if problem is None
                                          else f"\nno chart: {problem}"))
    failed = [r for r in runs if "error" in r]
    if failed:
        print(f"{len(failed)} run(s) failed; their errors are in the results file",
              file=sys.stderr)
    return 1 if failed else 0
