#!/bin/sh
# First start: a cluster whose superuser has POSTGRES_PASSWORD (password auth over TCP, trust
# on the local socket only), POSTGRES_DB created, init scripts run. Then PostgreSQL in the foreground.
set -eu
user="${POSTGRES_USER:-postgres}"
database="${POSTGRES_DB:-$user}"
if [ ! -s "$PGDATA/PG_VERSION" ]; then
  : "${POSTGRES_PASSWORD:?is required}"
  pwfile=$(mktemp)
  printf '%s\n' "$POSTGRES_PASSWORD" > "$pwfile"
  initdb -D "$PGDATA" -U "$user" --pwfile="$pwfile" --auth-local=trust --auth-host=scram-sha-256 >/dev/null
  rm -f "$pwfile"
  echo "host all all all scram-sha-256" >> "$PGDATA/pg_hba.conf"
  pg_ctl -D "$PGDATA" -o "-c listen_addresses=''" -w start >/dev/null
  [ "$database" = postgres ] || psql -q -U "$user" -d postgres -c "CREATE DATABASE \"$database\""
  for script in /docker-entrypoint-initdb.d/*.sql; do
    [ -e "$script" ] && psql -q -v ON_ERROR_STOP=1 -U "$user" -d "$database" -f "$script"
  done
  pg_ctl -D "$PGDATA" -m fast -w stop >/dev/null
fi
exec postgres -D "$PGDATA" -c listen_addresses='*'
