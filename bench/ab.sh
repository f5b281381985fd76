#!/usr/bin/env bash
# A/B of cicada binaries on one fan-in run, alternating (A B A B ...), for a change
# to the broker's hot path: delivered msg/s and the broker's CPU time per message.
#
#   bench/ab.sh [-q QOS] [-r ROUNDS] [-d SECONDS] BINARY...
#
# Each run starts a fresh broker (its defaults, logging errors only) on a free port,
# runs `cicada-bench pubsub -c 8 --subs 1 -t bench/%i -q QOS -s 64 -I 0 --threads 1`
# (the fan-in scenario of scripts/bench) and reads the broker's utime + stime from
# /proc/PID/stat. Build the binaries to compare with the release preset and copy them
# aside, e.g. `cp build/release/apps/cicada/cicada /tmp/cicada-before`.
set -euo pipefail
cd "$(dirname "$0")/.."

qos=0 rounds=3 duration=6
while getopts "q:r:d:" opt; do
  case $opt in
    q) qos=$OPTARG ;;
    r) rounds=$OPTARG ;;
    d) duration=$OPTARG ;;
    *) sed -n '2,11p' "$0"; exit 2 ;;
  esac
done
shift $((OPTIND - 1))
[ $# -ge 1 ] || { sed -n '2,11p' "$0"; exit 2; }
bench=build/release/apps/cicada-bench/cicada-bench
[ -x "$bench" ] || { echo "ab: build cicada-bench first (cmake --build --preset release)"; exit 2; }
ticks=$(getconf CLK_TCK)

free_port() { /usr/bin/python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }

for round in $(seq 1 "$rounds"); do
  for binary in "$@"; do
    port=$(free_port)
    "$binary" --listen "127.0.0.1:$port" --log-level error 2>/dev/null &
    pid=$!
    for _ in $(seq 50); do
      (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null && break
      sleep 0.1
    done
    line=$("$bench" pubsub -h 127.0.0.1 -p "$port" -c 8 --subs 1 -t 'bench/%i' -q "$qos" -s 64 \
             -R 2000 -I 0 -d "$duration" --threads 1 2>/dev/null | tail -n 1)
    cpu=$(awk -v t="$ticks" '{ printf "%.2f", ($14 + $15) / t }' "/proc/$pid/stat")
    kill "$pid"
    wait "$pid" 2>/dev/null || true
    LINE="$line" CPU="$cpu" NAME="$binary" ROUND="$round" /usr/bin/python3 - <<'PY'
import json, os
d = json.loads(os.environ["LINE"])
cpu = float(os.environ["CPU"])
print("round %s  %-28s delivered %9.0f msg/s  published %9.0f msg/s  broker CPU %5.2f s"
      "  %.3f us/msg" % (os.environ["ROUND"], os.environ["NAME"][-28:], d["received_per_s"],
                         d["sent_per_s"], cpu, cpu * 1e6 / max(d["sent"], 1)))
PY
  done
done
