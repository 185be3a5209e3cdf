#!/usr/bin/env python3
"""One grant from Mayfly over plain HTTPS: RFC 8693 token exchange, standard library only.

No generated code and no SDK: the workload sends its evidence (here a Kubernetes or CI OIDC
token, read from a file that the platform keeps fresh) and gets a short-lived access token for
one task. Settings, from the environment:

    MAYFLY_ISSUER         https://issuance.mayfly.svc:8443 (the token endpoint is $MAYFLY_ISSUER/oauth2/token)
    MAYFLY_CA_FILE        the mesh CA (PEM) that issuance's certificate chains to
    MAYFLY_EVIDENCE_FILE  the workload's OIDC token file, e.g. /var/run/secrets/tokens/mayfly

Usage: grant.py RESOURCE ACTION[,ACTION] TASK_ID
"""
import json
import os
import ssl
import sys
import urllib.error
import urllib.parse
import urllib.request

TOKEN_EXCHANGE = "urn:ietf:params:oauth:grant-type:token-exchange"
JWT = "urn:ietf:params:oauth:token-type:jwt"


def exchange(resource: str, actions: list[str], task_id: str) -> dict:
    with open(os.environ["MAYFLY_EVIDENCE_FILE"], encoding="utf-8") as file:
        evidence = file.read().strip()
    form = urllib.parse.urlencode({
        "grant_type": TOKEN_EXCHANGE,
        "subject_token": evidence,
        "subject_token_type": JWT,
        "resource": resource,
        "scope": " ".join(actions),
        "task_id": task_id,
        "task_kind": "ci-job",
        "justification": "nightly report",
    }).encode()
    request = urllib.request.Request(
        os.environ["MAYFLY_ISSUER"] + "/oauth2/token",
        data=form,
        headers={"Content-Type": "application/x-www-form-urlencoded"},
    )
    tls = ssl.create_default_context(cafile=os.environ["MAYFLY_CA_FILE"])
    try:
        with urllib.request.urlopen(request, context=tls, timeout=10) as response:
            return json.load(response)
    except urllib.error.HTTPError as refusal:
        # RFC 6749 error JSON; Mayfly's code (ERR_POLICY_DENIED, ...) starts error_description.
        problem = json.load(refusal)
        sys.exit(f"refused ({refusal.code}): {problem['error']}: {problem.get('error_description', '')}")


if __name__ == "__main__":
    if len(sys.argv) != 4:
        sys.exit(__doc__)
    answer = exchange(sys.argv[1], sys.argv[2].split(","), sys.argv[3])
    # The token goes to the resource as "Authorization: Bearer ..."; it expires by itself.
    print(json.dumps({"grant_id": answer["grant_id"], "expires_in": answer["expires_in"], "scope": answer["scope"], "access_token": answer["access_token"]}))
