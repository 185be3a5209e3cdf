#!/usr/bin/env bash
# Writes deploy/compose/.env with a fresh random password for every database role and NATS user
# the compose stack needs (mode 0600), unless it exists: compose refuses to start without them,
# so nobody runs Mayfly on passwords that are printed in its own repository.
set -euo pipefail
env_file="$(cd "$(dirname "$0")" && pwd)/.env"
if [ -e "$env_file" ]; then
  echo "$env_file exists: keeping it"
  exit 0
fi
secret() { head -c 24 /dev/urandom | base64 | tr '+/' '-_' | tr -d '='; }
umask 077
{
  for name in POSTGRES_PASSWORD \
    MAYFLY_DB_PASSWORD_ATTESTATION MAYFLY_DB_PASSWORD_DECISION MAYFLY_DB_PASSWORD_ISSUANCE MAYFLY_DB_PASSWORD_REVOCATION MAYFLY_DB_PASSWORD_AUDIT \
    MAYFLY_NATS_REVOCATION_PASSWORD MAYFLY_NATS_EDGE_PASSWORD MAYFLY_NATS_ISSUANCE_PASSWORD MAYFLY_NATS_AUDIT_PASSWORD MAYFLY_NATS_AUDITOR_PASSWORD; do
    echo "$name=$(secret)"
  done
} > "$env_file"
echo "wrote $env_file (fresh passwords, mode 0600)"
