#!/usr/bin/env bash
# A/B of cicada binaries on one fan-in run, alternating (A B A B ...), for a change
# to the broker's hot path: delivered msg/s and the broker's CPU time per message.
#
#   bench/ab.sh [-q QOS] [-r ROUNDS] [-d SECONDS] [-L RATE] BINARY...
#
# Each run starts a fresh broker (its defaults, logging errors only) on a free port,
# runs `cicada-bench pubsub -c 8 --subs 1 -t bench/%i -q QOS -s 64 -I 0 --threads 1`
# (the fan-in scenario of scripts/bench) and reads the broker's utime + stime from
# /proc/PID/stat. With -L the publishers send RATE msg/s in all instead of as fast as
# they can (`--rate RATE`: scripts/bench's latency scenario at -L 10000) and the
# latency percentiles are printed too. A BINARY named `mosquitto` runs Debian's
# mosquitto as scripts/bench does; extra cicada flags go after the path, quoted
# together: 'build/release/apps/cicada/cicada --threads 1'. Build the binaries to
# compare with the release preset and copy them aside, e.g.
# `cp build/release/apps/cicada/cicada /tmp/cicada-before`.
set -euo pipefail
cd "$(dirname "$0")/.."

qos=0 rounds=3 duration=6 load=(-I 0)
while getopts "q:r:d:L:" opt; do
  case $opt in
    q) qos=$OPTARG ;;
    r) rounds=$OPTARG ;;
    d) duration=$OPTARG ;;
    L) load=(--rate "$OPTARG") ;;
    *) sed -n '2,16p' "$0"; exit 2 ;;
  esac
done
shift $((OPTIND - 1))
[ $# -ge 1 ] || { sed -n '2,16p' "$0"; exit 2; }
bench=build/release/apps/cicada-bench/cicada-bench
[ -x "$bench" ] || { echo "ab: build cicada-bench first (cmake --build --preset release)"; exit 2; }
ticks=$(getconf CLK_TCK)

free_port() { /usr/bin/python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }

for round in $(seq 1 "$rounds"); do
  for binary in "$@"; do
    port=$(free_port)
    if [ "$binary" = mosquitto ]; then
      conf=$(mktemp)
      printf 'persistence false\nlistener %s 127.0.0.1\nallow_anonymous true\nlog_type error\n' \
        "$port" >"$conf"
      /usr/sbin/mosquitto -c "$conf" 2>/dev/null &
    else
      # shellcheck disable=SC2086  # a path and its flags, split on purpose
      $binary --listen "127.0.0.1:$port" --log-level error 2>/dev/null &
    fi
    pid=$!
    for _ in $(seq 50); do
      (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null && break
      sleep 0.1
    done
    line=$("$bench" pubsub -h 127.0.0.1 -p "$port" -c 8 --subs 1 -t 'bench/%i' -q "$qos" -s 64 \
             -R 2000 "${load[@]}" -d "$duration" --threads 1 2>/dev/null | tail -n 1)
    cpu=$(awk -v t="$ticks" '{ printf "%.2f", ($14 + $15) / t }' "/proc/$pid/stat")
    kill "$pid"
    wait "$pid" 2>/dev/null || true
    [ "$binary" = mosquitto ] && rm -f "$conf"
    LINE="$line" CPU="$cpu" NAME="$binary" ROUND="$round" /usr/bin/python3 - <<'PY'
import json, os
d = json.loads(os.environ["LINE"])
cpu = float(os.environ["CPU"])
line = ("round %s  %-28s delivered %9.0f msg/s  published %9.0f msg/s  broker CPU %5.2f s"
        "  %.3f us/msg" % (os.environ["ROUND"], os.environ["NAME"][-28:], d["received_per_s"],
                           d["sent_per_s"], cpu, cpu * 1e6 / max(d["sent"], 1)))
latency = d.get("latency_us") or {}
if "p99" in latency:
    line += "  p50 %.0f p99 %.0f p99.9 %.0f us" % (latency["p50"], latency["p99"],
                                                  latency["p99_9"])
print(line)
PY
  done
done
