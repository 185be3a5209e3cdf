#!/bin/sh
# One question to PostgreSQL with the login `mayfly agent` keeps fresh (README, "mayfly agent").
# The agent writes orders.env (where to connect, who to be) and .pgpass (the password) into
# $MAYFLY_AGENT_DIR; psql reads the password from PGPASSFILE, so it never appears on a command
# line, and each run picks up whatever login the agent holds now.
set -eu
dir="${MAYFLY_AGENT_DIR:-/run/mayfly}"
. "$dir/orders.env"
PGPASSFILE="$dir/.pgpass" exec psql --no-psqlrc -w -h "$MAYFLY_ORDERS_HOST" -p "$MAYFLY_ORDERS_PORT" -U "$MAYFLY_ORDERS_USER" -d "$MAYFLY_ORDERS_DATABASE" \
  -tAc 'SELECT total FROM orders WHERE id = 1'
