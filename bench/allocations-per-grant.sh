#!/usr/bin/env bash
# Bytes a service allocates per session grant (default issuance), at the given concurrency
# (default 1): a fresh mesh with every service's inspector open on a free port, session grants
# for 20 s, and V8's sampling heap profiler over 8 s of them (bench/src/allocation-sampler.ts).
#
# Usage: bash bench/allocations-per-grant.sh [CONCURRENCY] [SERVICE] (on a built tree; it stops
# any running mesh and drops the mayfly database). Used in BENCHMARKS.md (issue 24).
cd "$(dirname "$0")/.."
export PATH=$PWD/node_modules/.bin:$PATH
concurrency=${1:-1}
service=${2:-issuance}
log=/tmp/allocations-mesh.log
pkill -f "dist/main.js"; sleep 1
psql -h 127.0.0.1 -U postgres -qc "DROP DATABASE IF EXISTS mayfly WITH (FORCE)"; rm -rf .mayfly/nats
MAYFLY_SERVICE_NODE_OPTIONS="--max-old-space-size=128 --max-semi-space-size=8 --inspect=127.0.0.1:0" npm start > "$log" 2>&1 &
for i in $(seq 1 60); do psql -h 127.0.0.1 -U postgres -d mayfly -tAc "select 1 from grants limit 0" >/dev/null 2>&1 && break; sleep 1; done
sleep 20
url=$(grep "^$service .*Debugger listening" "$log" | grep -o "ws://.*" | head -1)
if [ -z "$url" ]; then echo "no inspector for $service in $log" >&2; exit 1; fi
BENCH_SESSION_ONLY=1 BENCH_CONCURRENCY=$concurrency BENCH_SECONDS=20 BENCH_WARMUP_SECONDS=2 node bench/dist/main.js > /tmp/allocations-load.log 2>&1 &
load=$!
sleep 8
node bench/dist/allocation-sampler.js "$url" 8 15
wait $load
pkill -f "mesh start"; sleep 2; pkill -f "dist/main.js"
