#!/usr/bin/env bash
# The fault filesystem's cost, and the time of a power fault (BENCHMARKS.md,
# "The fault filesystem"). Release build, as root, with redis-server,
# redis-tools and postgresql installed (.ci/packages):
#
#   cargo build --release && benches/disk/run.sh [ROUNDS]
#
# 1. Redis 7 with `appendfsync always` (an fsync per write), redis-benchmark
#    SET, 20 clients, on a plain directory and on the layer, alternating,
#    ROUNDS rounds (default 3): SET ops/s, medians.
# 2. PostgreSQL 15 (fsync on), Elle list-append through faultline's own
#    client, 10 workers as fast as possible for 15 s, on one local node with
#    and without `db.disk.dirs`: committed txns/s, medians.
# 3. A power fault on 3 nodes (Redis, everysec): the time from the
#    nemesis's start-power invocation to its completion (kill, drop,
#    reply), from each run's history.
set -euo pipefail
cd "$(dirname "$0")/../.."
rounds=${1:-3}
bin=target/release/faultline
[ -x "$bin" ] || { echo "build first: cargo build --release" >&2; exit 1; }
[ "$(id -u)" = 0 ] || { echo "needs root (FUSE mounts, namespaces)" >&2; exit 1; }
work=/var/tmp/faultline-bench-disk-$$
mkdir -p "$work"
layer_pid=
redis_pid=
cleanup() {
  [ -n "$redis_pid" ] && kill "$redis_pid" 2>/dev/null || true
  [ -n "$layer_pid" ] && kill "$layer_pid" 2>/dev/null || true
  sleep 0.5
  grep -q "^faultline $work/data/db fuse" /proc/mounts && umount -l "$work/data/db" || true
  rm -rf "$work"
}
trap cleanup EXIT

median() { sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }

redis_round() { # DIR -> SET ops/s
  rm -rf "$1"/* 2>/dev/null || true
  /usr/bin/redis-server --port 16379 --bind 127.0.0.1 --dir "$1" --appendonly yes \
    --appendfsync always --save '' --daemonize no >"$work/redis.log" 2>&1 &
  redis_pid=$!
  for _ in $(seq 100); do redis-cli -p 16379 ping >/dev/null 2>&1 && break; sleep 0.05; done
  redis-benchmark -p 16379 -t set -n 20000 -c 20 -r 1000000 -q 2>/dev/null \
    | sed -n 's/.*SET: \([0-9.]*\) requests per second.*/\1/p' | tail -1
  kill "$redis_pid"; wait "$redis_pid" 2>/dev/null || true; redis_pid=
}

echo "== 1. Redis appendfsync always, redis-benchmark SET -n 20000 -c 20, $rounds rounds"
mkdir -p "$work/plain" "$work/data"
"$bin" disk mount --mount "$work/data/db" --backing "$work/data/db.real" \
  --socket "$work/ctl.sock" --within "$work/data" 2>>"$work/layer.log" &
layer_pid=$!
for _ in $(seq 100); do "$bin" disk ctl "$work/ctl.sock" ping >/dev/null 2>&1 && break; sleep 0.05; done
plain=(); layer=()
for r in $(seq "$rounds"); do
  plain+=("$(redis_round "$work/plain")")
  layer+=("$(redis_round "$work/data/db")")
  echo "round $r: plain ${plain[-1]} ops/s, layer ${layer[-1]} ops/s"
done
p=$(printf '%s\n' "${plain[@]}" | median); l=$(printf '%s\n' "${layer[@]}" | median)
echo "redis SET ops/s median: plain $p, layer $l, layer/plain $(awk "BEGIN {printf \"%.2f\", $l/$p}")"
kill "$layer_pid"; wait "$layer_pid" 2>/dev/null || true; layer_pid=

echo "== 2. PostgreSQL list-append, 10 workers, 15 s, $rounds rounds"
pg_round() { # SPEC -> committed txns/s
  local store="$work/store"
  "$bin" test "$1" --store "$store" >"$work/pg.out" 2>&1 || true
  python3 - "$store" "$(basename "$1" .yaml)" <<'PY'
import json, sys
r = json.load(open(f"{sys.argv[1]}/{sys.argv[2]}/latest/results.json"))
ok = r["checkers"]["stats"]["by_f"]["txn"]["ok"]
print(f"{ok / 15:.0f}")
PY
}
plain=(); layer=()
for r in $(seq "$rounds"); do
  plain+=("$(pg_round benches/disk/postgres-append-plain.yaml)")
  layer+=("$(pg_round benches/disk/postgres-append-layer.yaml)")
  echo "round $r: plain ${plain[-1]} txns/s, layer ${layer[-1]} txns/s"
done
p=$(printf '%s\n' "${plain[@]}" | median); l=$(printf '%s\n' "${layer[@]}" | median)
echo "postgres list-append txns/s median: plain $p, layer $l, layer/plain $(awk "BEGIN {printf \"%.2f\", $l/$p}")"

echo "== 3. power on 3 nodes (Redis everysec), start-power invoke -> completion"
"$bin" test benches/disk/redis-power-3.yaml --store "$work/store" >"$work/power.out" 2>&1 || true
python3 - "$work/store/redis-power-3/latest/history.jsonl" <<'PY'
import json, sys
inv = None
for line in open(sys.argv[1]):
    op = json.loads(line)
    if op.get("f") != "start-power":
        continue
    if op["type"] == "invoke":
        inv = op["time"]
    elif inv is not None:
        v = op["value"]
        print(f"power on {len(v['nodes'])} nodes: {(op['time'] - inv) / 1e6:.0f} ms, dropped {v.get('dropped_bytes')} bytes in {v.get('dropped_files')} files")
        inv = None
PY
