#!/usr/bin/env bash
# WAL records per session grant by type (pg_waldump --stats=record): how many heap rows, index
# entries, row locks and commits one grant costs PostgreSQL, read from what it actually wrote.
# A fresh mesh, 3 s of warm-up load, then session grants at 64 callers for 8 s; the WAL between
# the two insert positions is summarised and divided by the grants committed in between.
#
# Usage: bash bench/wal-records-per-grant.sh (on a built tree, on the machine that runs
# PostgreSQL, as a user who can read its data directory; it stops any running mesh and drops the
# mayfly database). Used in BENCHMARKS.md (issue 24).
cd "$(dirname "$0")/.."
export PATH=$PWD/node_modules/.bin:$PATH
psql_() { psql -h 127.0.0.1 -U postgres -qAt "$@"; }
waldump=$(ls /usr/lib/postgresql/*/bin/pg_waldump 2>/dev/null | tail -1)
[ -n "$waldump" ] || { echo "pg_waldump not found (Debian: postgresql-<version>)" >&2; exit 1; }
waldir="$(psql_ -c 'show data_directory')/pg_wal"
[ -r "$waldir" ] || { echo "cannot read $waldir: run as a user who can (root, postgres)" >&2; exit 1; }
pkill -f "dist/main.js"; sleep 1
psql_ -c "DROP DATABASE IF EXISTS mayfly WITH (FORCE)"; rm -rf .mayfly/nats
npm start > /tmp/wal-records-mesh.log 2>&1 &
for i in $(seq 1 60); do psql_ -d mayfly -c "select 1 from grants limit 0" >/dev/null 2>&1 && break; sleep 1; done
sleep 5
BENCH_SESSION_ONLY=1 BENCH_CONCURRENCY=64 BENCH_SECONDS=3 BENCH_WARMUP_SECONDS=1 node bench/dist/main.js > /dev/null 2>&1
g0=$(psql_ -d mayfly -c "select count(*) from grants"); l0=$(psql_ -c "select pg_current_wal_insert_lsn()")
BENCH_SESSION_ONLY=1 BENCH_CONCURRENCY=64 BENCH_SECONDS=8 BENCH_WARMUP_SECONDS=1 node bench/dist/main.js 2>&1 | grep -E "session grants c=" | cut -c1-100
sleep 2
g1=$(psql_ -d mayfly -c "select count(*) from grants"); l1=$(psql_ -c "select pg_current_wal_insert_lsn()")
grants=$((g1 - g0))
echo "$grants grants; WAL $l0 .. $l1; records per grant by type (those above 0.05):"
"$waldump" -p "$waldir" -s "$l0" -e "$l1" --stats=record 2>&1 |
  awk -v g="$grants" '$2 ~ /^[0-9]+$/ && $1 != "Total" && $2 / g >= 0.05 { printf "  %-28s %6.2f  (%d bytes per grant)\n", $1, $2 / g, $5 / g }
                      $1 == "Total" { printf "  %-28s %6.2f  (%d bytes per grant)\n", "all", $2 / g, $3 / g }'
pkill -f "mesh start"; sleep 2; pkill -f "dist/main.js"
