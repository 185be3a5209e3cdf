#!/usr/bin/env bash
# Writes deploy/compose/.env with a fresh random password for every database role and NATS user
# the compose stack needs (mode 0600), unless it exists: compose refuses to start without them,
# so nobody runs Mayfly on passwords that are printed in its own repository. An existing .env is
# kept; a password it lacks (one a newer compose.yaml needs) is added to it.
set -euo pipefail
env_file="$(cd "$(dirname "$0")" && pwd)/.env"
secret() { head -c 24 /dev/urandom | base64 | tr '+/' '-_' | tr -d '='; }
umask 077
existed=false
[ -e "$env_file" ] && existed=true
added=0
for name in POSTGRES_PASSWORD \
  MAYFLY_DB_PASSWORD_ATTESTATION MAYFLY_DB_PASSWORD_DECISION MAYFLY_DB_PASSWORD_ISSUANCE MAYFLY_DB_PASSWORD_REVOCATION MAYFLY_DB_PASSWORD_AUDIT \
  MAYFLY_NATS_REVOCATION_PASSWORD MAYFLY_NATS_EDGE_PASSWORD MAYFLY_NATS_ISSUANCE_PASSWORD MAYFLY_NATS_AUDIT_PASSWORD MAYFLY_NATS_AUDITOR_PASSWORD \
  MAYFLY_ORDERS_DB_PASSWORD; do
  if ! grep -q "^$name=" "$env_file" 2>/dev/null; then
    echo "$name=$(secret)" >> "$env_file"
    added=$((added + 1))
  fi
done
if $existed; then
  echo "$env_file exists: kept it, added $added missing password(s)"
else
  echo "wrote $env_file (fresh passwords, mode 0600)"
fi
