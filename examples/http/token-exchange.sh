#!/bin/sh
# One grant with curl (README, "Any language: token exchange over HTTPS"): the workload's OIDC
# token in, a short-lived access token for one task out (RFC 8693 JSON on stdout).
#   MAYFLY_ISSUER         https://issuance.mayfly.svc:8443
#   MAYFLY_CA_FILE        the mesh CA (PEM)
#   MAYFLY_EVIDENCE_FILE  the workload's OIDC token file
set -eu
curl --silent --show-error --fail-with-body --cacert "$MAYFLY_CA_FILE" "$MAYFLY_ISSUER/oauth2/token" \
  --data grant_type=urn:ietf:params:oauth:grant-type:token-exchange \
  --data subject_token_type=urn:ietf:params:oauth:token-type:jwt \
  --data-urlencode "subject_token@$MAYFLY_EVIDENCE_FILE" \
  --data resource=pg:orders-db --data scope=read \
  --data task_id="${TASK_ID:-job-$$}" --data task_kind=ci-job
