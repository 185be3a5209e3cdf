#!/usr/bin/env bash
# Writes deploy/compose/.env with a fresh random password for every database role and NATS user
# the compose stack needs, and the console's client secret at the development sign-in provider
# (mode 0600), unless it exists: compose refuses to start without them,
# so nobody runs Mayfly on passwords that are printed in its own repository. An existing .env is
# kept; a password it lacks (one a newer compose.yaml needs) is added to it.
set -euo pipefail
env_file="$(cd "$(dirname "$0")" && pwd)/.env"
# A letter, then letters and digits only: nats.conf reads its passwords through nats-server's own
# parser, which takes a value like "5g…" for a size and "1e…" for a number and refuses the file.
secret() { printf 'm%s' "$(head -c 48 /dev/urandom | base64 | tr -dc 'A-Za-z0-9' | head -c 40)"; }
umask 077
existed=false
[ -e "$env_file" ] && existed=true
added=0
# NATS passwords from an older make-env.sh that nats-server may misread are replaced (NATS keeps
# no users of its own: the next start reads the new ones). Database passwords are kept: PostgreSQL
# keeps the ones it was initialised with.
if [ -e "$env_file" ]; then
  for name in MAYFLY_NATS_REVOCATION_PASSWORD MAYFLY_NATS_EDGE_PASSWORD MAYFLY_NATS_ISSUANCE_PASSWORD MAYFLY_NATS_AUDIT_PASSWORD MAYFLY_NATS_AUDITOR_PASSWORD; do
    if grep -q "^$name=" "$env_file" && ! grep -Eq "^$name=[A-Za-z][A-Za-z0-9]*$" "$env_file"; then
      sed -i "/^$name=/d" "$env_file"
      echo "$env_file: replaced $name (nats-server could misread it)"
    fi
  done
fi
for name in POSTGRES_PASSWORD \
  MAYFLY_DB_PASSWORD_ATTESTATION MAYFLY_DB_PASSWORD_DECISION MAYFLY_DB_PASSWORD_ISSUANCE MAYFLY_DB_PASSWORD_REVOCATION MAYFLY_DB_PASSWORD_AUDIT \
  MAYFLY_NATS_REVOCATION_PASSWORD MAYFLY_NATS_EDGE_PASSWORD MAYFLY_NATS_ISSUANCE_PASSWORD MAYFLY_NATS_AUDIT_PASSWORD MAYFLY_NATS_AUDITOR_PASSWORD \
  MAYFLY_ORDERS_DB_PASSWORD MAYFLY_CONSOLE_OIDC_CLIENT_SECRET; do
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
