#!/usr/bin/env bash
# WAL per grant, session grants at 64 callers for 20 s, with a CHECKPOINT every second (the
# steady state of a long-lived database, where every page's first change after a checkpoint
# writes a full-page image).
cd "$(dirname "$0")/.."
export PATH=$PWD/node_modules/.bin:$PATH
run() {
  pkill -f "dist/main.js"; sleep 1
  psql -h 127.0.0.1 -U postgres -qc "DROP DATABASE IF EXISTS mayfly WITH (FORCE)"; rm -rf .mayfly/nats
  npm start > /tmp/wal-mesh.log 2>&1 &
  for i in $(seq 1 60); do psql -h 127.0.0.1 -U postgres -d mayfly -tAc "select 1 from grants limit 0" >/dev/null 2>&1 && break; sleep 1; done
  sleep 5
  psql -h 127.0.0.1 -U postgres -qAtc "select pg_stat_reset_shared('wal')" >/dev/null
  ( while true; do psql -h 127.0.0.1 -U postgres -qc CHECKPOINT >/dev/null 2>&1; sleep 1; done ) & cp=$!
  g0=$(psql -h 127.0.0.1 -U postgres -d mayfly -tAc "select count(*) from grants")
  BENCH_SESSION_ONLY=1 BENCH_CONCURRENCY=64 BENCH_SECONDS=20 BENCH_WARMUP_SECONDS=1 npm run bench 2>&1 | grep -E "session grants c=" | cut -c1-90
  kill $cp
  g1=$(psql -h 127.0.0.1 -U postgres -d mayfly -tAc "select count(*) from grants")
  psql -h 127.0.0.1 -U postgres -tAc "select 'grants ' || ($g1-$g0) || ', WAL bytes/grant ' || round(wal_bytes/($g1-$g0)) || ', records/grant ' || round(wal_records::numeric/($g1-$g0),2) || ', FPI/grant ' || round(wal_fpi::numeric/($g1-$g0),3) from pg_stat_wal"
  pkill -f "mesh start"; sleep 2; pkill -f "dist/main.js"
}
# Usage: bash bench/wal-per-grant.sh (on a built tree; it stops any running mesh and drops the
# mayfly database). Used with random v4 ids against v7 ids in BENCHMARKS.md (issue 24).
run
