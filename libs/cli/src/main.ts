#!/usr/bin/env node
import { resolve } from 'node:path';
import { parseArgs } from 'node:util';
import type { Command } from './command.js';
import * as agent from './commands/agent.js';
import * as approvals from './commands/approvals.js';
import * as audit from './commands/audit.js';
import * as bindingRules from './commands/binding-rules.js';
import * as db from './commands/db.js';
import * as joinTokens from './commands/join-tokens.js';
import * as resources from './commands/resources.js';
import * as keys from './commands/keys.js';
import * as mesh from './commands/mesh.js';
import * as people from './commands/people.js';
import * as pki from './commands/pki.js';
import * as policy from './commands/policy.js';
import * as policySets from './commands/policy-sets.js';
import * as revoke from './commands/revoke.js';
import * as traces from './commands/traces.js';
import * as usageReview from './commands/usage.js';
import * as workload from './commands/workload.js';
import * as workloads from './commands/workloads.js';
import { explain } from './errors.js';
import { maskDashedWords } from './flags.js';
import { nearest, nounHelp, unknownCommand, verbHelp } from './help.js';
import { output } from './output.js';

/** Every command, by noun and verb: the one place that lists them. */
const COMMANDS: Readonly<Record<string, Readonly<Record<string, Command>>>> = {
  mesh: {
    start: { summary: 'run the whole mesh locally (PostgreSQL and NATS found or started; demo data seeded)', run: mesh.start },
    demo: { summary: 'grant → verify → revoke → verify against a running mesh, with timings (--every S: again and again)', run: mesh.demo },
    seed: { summary: 'register the demo issuer and workload in DATABASE_URL', run: mesh.seed },
  },
  db: {
    migrate: { summary: 'migrate the schema and provision one least-privilege role per service (as the owner)', run: db.migrate },
    status: { summary: 'list migrations, applied or pending (exit 1 if any is pending)', run: db.status },
  },
  revocation: {
    keygen: { summary: "the revocation service's feed key (--out FILE, Ed25519 JWK; MAYFLY_REVOCATION_FEED_KEY_FILE) unless FILE exists", run: audit.keygen },
  },
  audit: {
    verify: { summary: 'check the audit trail against its hash chain, its signed checkpoints and the signed head kept on NATS (--nats, --head-stream, --max-head-age); names every edited, deleted, inserted, reordered or truncated record (exit 1); exit 2 when completeness cannot be proven', run: audit.verify },
    search: { summary: 'events matching --grant, --task, --workload, --kind, --since, --until (oldest first; --limit, default 100)', run: audit.search },
    tail: { summary: 'the newest events (--limit, default 20); --follow keeps printing new ones', run: audit.tail },
    export: { summary: 'every matching event as JSON lines, for a SIEM (stdout, or --out FILE)', run: audit.exportEvents },
    keygen: { summary: "the audit service's checkpoint key (--out FILE, Ed25519 JWK) unless FILE exists", run: audit.keygen },
  },
  workloads: {
    create: { summary: 'register a workload: --owner-team --owner-contact --environment --risk-tier --ceiling "RES=ACT,ACT;…" [--shared] (audited)', run: workloads.create },
    update: { summary: 'change a workload (only the flags given); --revoke-exceeding revokes live grants a smaller ceiling no longer covers', run: workloads.update },
    show: { summary: 'one registered workload: owner, environment, risk tier, state, ceiling', run: workloads.show },
    list: { summary: 'registered workloads (--prefix spiffe://…/prod/, --limit N)', run: workloads.list },
    disable: { summary: 'disable a workload: no new session, no grant (audited)', run: workload.disable },
    enable: { summary: 'enable a disabled workload again (audited)', run: workload.enable },
  },
  policy: {
    validate: { summary: 'check a policy directory (*.cedar, schema.cedarschema, approval-rules.json) as the decision service would load it: FILE:LINE per problem, exit 1', run: policy.validate },
    push: { summary: 'store DIR as the next policy set version (validated first: FILE:LINE per problem; audited); decision replicas use it within a second', run: policySets.push },
    versions: { summary: 'stored policy set versions, the active one first (--limit N)', run: policySets.versions },
    show: { summary: "a version's files (default: the active one)", run: policySets.show },
    diff: { summary: 'what changed: [FROM [TO]], each a version or a directory (none: previous → active; DIR: active → DIR)', run: policySets.diff },
    rollback: { summary: "make VERSION's files active again, as a new version (audited)", run: policySets.rollback },
    explain: { summary: 'what policy would decide for <spiffe-id> --resource R --actions A[,A] [--task-kind K --reference REF --justification J --ttl S --break-glass], per action; issues nothing', run: policy.explain },
  },
  issuers: {
    put: { summary: 'trust (or change) an issuer of workload evidence: --audience (repeatable), --jwks-uri URL or --jwks-file F, --issuer-kind, --algorithms, --replay', run: workloads.issuersPut },
    list: { summary: 'trusted issuers: audiences, where their keys come from, algorithms, replay policy', run: workloads.issuersList },
    remove: { summary: 'stop trusting an issuer (its bindings go with it)', run: workloads.issuersRemove },
  },
  'binding-rules': {
    create: { summary: 'map claims of <issuer> to a workload: --template "spiffe://{trust_domain}/ns/{namespace}/sa/{service_account}" [--match NAME=VALUE …] [--description D]', run: bindingRules.create },
    list: { summary: 'binding rules, optionally of one <issuer>', run: bindingRules.list },
    remove: { summary: 'remove the binding rule <id> (audited)', run: bindingRules.remove },
  },
  resources: {
    put: { summary: 'give <name> dynamic logins: --kind postgresql|mariadb|redis --host H --port P [--database D] --admin-credential-file FILE --map ACTION=ROLE[,ROLE] (repeatable) [--connection-limit N]; checked by connecting', run: resources.put },
    list: { summary: 'resources with dynamic logins: kind, where, actions', run: resources.list },
    show: { summary: 'one resource', run: resources.show },
    remove: { summary: 'remove <name> (refused while live grants hold logins in it)', run: resources.remove },
  },
  'join-tokens': {
    create: { summary: 'a one-time join token for <spiffe-id> (--ttl S, default 600, at most 3600): shown once', run: joinTokens.create },
    list: { summary: 'join tokens, used and unused (--workload SPIFFE-ID)', run: joinTokens.list },
    remove: { summary: 'withdraw the unused join token <id> (audited)', run: joinTokens.remove },
  },
  bindings: {
    put: { summary: 'bind <issuer> <subject> exactly to a registered <spiffe-id> (audited)', run: workloads.bindingsPut },
    remove: { summary: 'remove the binding of <issuer> <subject>', run: workloads.bindingsRemove },
    list: { summary: 'bindings (--workload SPIFFE-ID: only its)', run: workloads.bindingsList },
  },
  // The singular noun of earlier releases, kept for scripts.
  workload: {
    disable: { summary: 'the same as mayfly workloads disable', run: workload.disable },
    enable: { summary: 'the same as mayfly workloads enable', run: workload.enable },
  },
  revoke: {
    grant: { summary: 'revoke one grant and its token everywhere (--reason TEXT; audited with your identity)', run: revoke.grant },
    token: { summary: 'revoke the grant whose token has this jti', run: revoke.token },
    task: { summary: "revoke every active grant of a task (--workload SPIFFE-ID: only that workload's)", run: revoke.task },
    workload: { summary: 'revoke every credential a workload holds, issued before --issued-before (default now); later ones still work', run: revoke.workload },
    key: { summary: 'revoke a signing key: every token it signed is refused, it leaves the JWKS (promote another key first)', run: revoke.key },
  },
  approvals: {
    list: { summary: 'requests waiting for approval (as the person --id-token names; MAYFLY_ID_TOKEN)', run: approvals.list },
    show: { summary: 'one request: workload, owner, justification, rule, who answered', run: approvals.show },
    approve: { summary: 'approve a request (--reason TEXT); at the threshold its token is issued', run: approvals.approve },
    reject: { summary: 'reject a request (--reason TEXT, required): it ends', run: approvals.reject },
  },
  'break-glass': {
    list: { summary: 'break-glass grants nobody has reviewed yet (--all: reviewed ones too)', run: approvals.breakGlassList },
    review: { summary: 'record the after-action review of a break-glass grant (--review TEXT)', run: approvals.breakGlassReview },
  },
  grants: {
    list: { summary: 'grants, newest first (--status S[,S], --workload SPIFFE-ID, --resource R, --task ID, --limit N)', run: approvals.grantsList },
    show: { summary: 'one grant: status, bounds, delegation, approvals, break-glass review', run: approvals.grantsShow },
  },
  people: {
    init: { summary: "the development people issuer for a local stack: its key in MAYFLY_STATE_DIR (kept if there) and its public key set in --out FILE (issuance's MAYFLY_APPROVER_JWKS)", run: people.init },
    token: { summary: 'an ID token from the development people issuer (local meshes only; --groups G[,G])', run: people.token },
    serve: { summary: "the development sign-in provider for the console (compose's people service; --host, --port 7458): local stacks only", run: people.serve },
  },
  svid: {
    revoke: { summary: 'revoke one X.509-SVID (--serial) or every SVID of a workload issued before a time (audited)', run: workload.revokeSvids },
  },
  pki: {
    init: { summary: 'a development CA, workload CA and a certificate per service and the operator in --dir (idempotent)', run: pki.init },
  },
  keys: {
    init: { summary: 'an active key in --dir unless the keyring has one (idempotent: for init jobs)', run: keys.init },
    list: { summary: 'the signing keyring (--dir, default MAYFLY_SIGNING_KEYRING_DIR): kid, state, published until', run: keys.list },
    generate: { summary: 'add a key: active in an empty keyring, otherwise next (published, not signing)', run: keys.generate },
    promote: { summary: 'the next key signs, the active one retires (refused until next is --min-published seconds old, default 300)', run: keys.promote },
    prune: { summary: 'delete retired keys past the longest token (--max-ttl) plus --grace', run: keys.prune },
    remove: { summary: 'delete one key now, e.g. a compromised one (never the active key)', run: keys.remove },
  },
  usage: {
    report: { summary: 'per workload: ceiling, granted, used (edges), and the smallest ceiling covering the use (--workload, --since, default 30d)', run: usageReview.report },
  },
  agent: {
    run: { summary: 'keep the grants a config declares fresh as files beside a workload (--config FILE or MAYFLY_AGENT_CONFIG; runs exec.command with them); SIGTERM releases them and removes the files', run: agent.run },
    check: { summary: 'validate an agent config (--config FILE): every problem with its line, exit 2', run: agent.check },
  },
  traces: {
    show: { summary: 'print the last grant traces of MAYFLY_TRACES_FILE (default .mayfly/traces.jsonl) as timed trees ([N], default 3; --all: background work too)', run: traces.show },
  },
};

function usage(): string {
  const lines = ['usage: mayfly <noun> <verb> [--json]', ''];
  for (const [noun, verbs] of Object.entries(COMMANDS)) {
    for (const [verb, command] of Object.entries(verbs)) lines.push(`  ${`${noun} ${verb}`.padEnd(20)} ${command.summary}`);
  }
  lines.push('', 'flags: --json (one JSON document on stdout), --database-url URL, --role-prefix P, --skip-roles, --reason TEXT, --serial HEX, --issued-before ISO,',
    '       --dir DIR, --min-published S, --max-ttl S, --grace S, --trust-domain TD, --every S, --public-key FILE,',
    '       --grant ID, --task ID, --workload SPIFFE-ID, --kind K[,K], --since T, --until T, --limit N, --follow, --out FILE,',
    '       --id-token TOKEN|@FILE (or MAYFLY_ID_TOKEN), --review TEXT, --status S[,S], --groups G[,G], --all,',
    '       --owner-team T, --owner-contact C, --environment E, --risk-tier R, --ceiling "RES=ACT,ACT;…", --shared, --revoke-exceeding, --prefix P,',
    '       --audience A (repeatable), --jwks-uri URL, --jwks-file F, --ca-file PEM, --issuer-kind oidc|kubernetes|github-actions|gitlab-ci|spiffe|x509,',
    '       --algorithms A[,A], --replay single-use|reusable, --max-lifetime S, --match NAME=VALUE (repeatable), --template T, --description D,',
    '       --host H, --port P, --database D, --admin-credential-file FILE, --map ACTION=GRANT[,GRANT] (repeatable), --connection-limit N,',
    '       --resource R, --actions A[,A], --task-kind K, --reference REF, --justification J, --ttl S, --break-glass, --claim NAME=VALUE (repeatable), --config FILE');
  return lines.join('\n');
}

/** Every flag the CLI knows (each command reads only its own; `mayfly <noun> <verb> --help`). */
const OPTIONS = {
  json: { type: 'boolean', default: false },
  'database-url': { type: 'string' },
  'role-prefix': { type: 'string' },
  'skip-roles': { type: 'boolean', default: false },
  reason: { type: 'string' },
  serial: { type: 'string' },
  'issued-before': { type: 'string' },
  dir: { type: 'string' },
  'min-published': { type: 'string' },
  'max-ttl': { type: 'string' },
  grace: { type: 'string' },
  'trust-domain': { type: 'string' },
  every: { type: 'string' },
  'public-key': { type: 'string' },
  nats: { type: 'string' },
  'head-stream': { type: 'string' },
  'head-subject': { type: 'string' },
  'max-head-age': { type: 'string' },
  grant: { type: 'string' },
  task: { type: 'string' },
  workload: { type: 'string' },
  kind: { type: 'string' },
  since: { type: 'string' },
  until: { type: 'string' },
  limit: { type: 'string' },
  follow: { type: 'boolean', default: false },
  out: { type: 'string' },
  'id-token': { type: 'string' },
  review: { type: 'string' },
  status: { type: 'string' },
  groups: { type: 'string' },
  all: { type: 'boolean', default: false },
  'owner-team': { type: 'string' },
  'owner-contact': { type: 'string' },
  environment: { type: 'string' },
  'risk-tier': { type: 'string' },
  ceiling: { type: 'string' },
  shared: { type: 'boolean' },
  'revoke-exceeding': { type: 'boolean', default: false },
  'break-glass-allowed': { type: 'string' },
  prefix: { type: 'string' },
  audience: { type: 'string', multiple: true },
  'jwks-uri': { type: 'string' },
  'jwks-file': { type: 'string' },
  'issuer-kind': { type: 'string' },
  algorithms: { type: 'string' },
  replay: { type: 'string' },
  'max-lifetime': { type: 'string' },
  'ca-file': { type: 'string' },
  match: { type: 'string', multiple: true },
  template: { type: 'string' },
  description: { type: 'string' },
  claim: { type: 'string', multiple: true },
  host: { type: 'string' },
  port: { type: 'string' },
  database: { type: 'string' },
  'admin-credential-file': { type: 'string' },
  map: { type: 'string', multiple: true },
  'connection-limit': { type: 'string' },
  resource: { type: 'string' },
  actions: { type: 'string' },
  'task-kind': { type: 'string' },
  reference: { type: 'string' },
  justification: { type: 'string' },
  ttl: { type: 'string' },
  'break-glass': { type: 'boolean', default: false },
  config: { type: 'string' },
  help: { type: 'boolean', short: 'h', default: false },
} as const;

/** The command line, or a usage error that names the unknown flag and the nearest known one. */
function parseCommandLine(argv: readonly string[]) {
  const { args, unmask } = maskDashedWords(argv);
  try {
    const parsed = parseArgs({ args, allowPositionals: true, options: OPTIONS });
    const values = Object.fromEntries(
      Object.entries(parsed.values).map(([name, value]) => [name, typeof value === 'string' ? unmask(value) : Array.isArray(value) ? value.map((v) => (typeof v === 'string' ? unmask(v) : v)) : value]),
    ) as typeof parsed.values;
    return { values, positionals: parsed.positionals.map(unmask) };
  } catch (error) {
    const unknown = /Unknown option '(-{1,2}[^']+)'/.exec((error as Error).message)?.[1];
    if (unknown) {
      const guess = nearest(unknown.replace(/^-+/, ''), Object.keys(OPTIONS));
      throw new UsageError(`unknown flag ${unknown}${guess ? ` — did you mean --${guess}?` : ''} (mayfly <noun> <verb> --help lists a command's flags)`);
    }
    throw new UsageError((error as Error).message);
  }
}

/** Wrong words on the command line: exit 2, as usage errors do. */
class UsageError extends Error {}

async function main(argv: readonly string[]): Promise<void> {
  const { values, positionals } = parseCommandLine(argv);
  const [noun, verb, ...args] = positionals;
  if (noun === undefined) {
    process.stdout.write(`${usage()}\n`);
    return;
  }
  const unknown = unknownCommand(COMMANDS, noun, verb);
  if (unknown) throw new UsageError(unknown);
  const command = verb === undefined ? undefined : COMMANDS[noun]?.[verb];
  if (!command) {
    // `mayfly <noun>` or `mayfly <noun> --help`: the noun's verbs.
    process.stdout.write(`${nounHelp(COMMANDS, noun)}\n`);
    process.exitCode = values.help ? 0 : 2;
    return;
  }
  if (values.help) {
    process.stdout.write(`${verbHelp(noun, verb!, command)}\n`);
    return;
  }
  await command.run({
    flags: {
      json: values.json,
      databaseUrl: values['database-url'],
      rolePrefix: values['role-prefix'],
      skipRoles: values['skip-roles'],
      reason: values.reason,
      serial: values.serial,
      issuedBefore: values['issued-before'],
      dir: values.dir,
      minPublished: values['min-published'],
      maxTtl: values['max-ttl'],
      grace: values.grace,
      trustDomain: values['trust-domain'],
      every: values.every,
      publicKey: values['public-key'],
      nats: values.nats,
      headStream: values['head-stream'],
      headSubject: values['head-subject'],
      maxHeadAge: values['max-head-age'],
      grant: values.grant,
      task: values.task,
      workload: values.workload,
      kind: values.kind,
      since: values.since,
      until: values.until,
      limit: values.limit,
      follow: values.follow,
      out: values.out,
      idToken: values['id-token'],
      review: values.review,
      status: values.status,
      groups: values.groups,
      all: values.all,
      ownerTeam: values['owner-team'],
      ownerContact: values['owner-contact'],
      environment: values.environment,
      riskTier: values['risk-tier'],
      ceiling: values.ceiling,
      shared: values.shared,
      revokeExceeding: values['revoke-exceeding'],
      breakGlassAllowed: values['break-glass-allowed'],
      prefix: values.prefix,
      audiences: values.audience ?? [],
      jwksUri: values['jwks-uri'],
      jwksFile: values['jwks-file'],
      issuerKind: values['issuer-kind'],
      algorithms: values.algorithms,
      replay: values.replay,
      maxLifetime: values['max-lifetime'],
      caFile: values['ca-file'],
      match: values.match ?? [],
      template: values.template,
      description: values.description,
      claim: values.claim ?? [],
      host: values.host,
      port: values.port,
      database: values.database,
      adminCredentialFile: values['admin-credential-file'],
      map: values.map ?? [],
      connectionLimit: values['connection-limit'],
      resource: values.resource,
      actions: values.actions,
      taskKind: values['task-kind'],
      reference: values.reference,
      justification: values.justification,
      ttl: values.ttl,
      breakGlass: values['break-glass'],
      config: values.config,
    },
    args,
    out: output(values.json),
    stateDir: resolve(process.env['MAYFLY_STATE_DIR'] ?? '.mayfly'),
  });
}

const nodeMajor = Number(process.versions.node.split('.')[0]);
if (nodeMajor < 24) {
  process.stderr.write(
    `mayfly: needs Node 24 or newer, this is ${process.version}. Run it through npm (npm start, npx mayfly ...): ` +
      'npm puts the Node 24 that npm ci installed (the "node" devDependency) first on PATH.\n',
  );
  process.exit(1);
}

main(process.argv.slice(2)).catch((error: unknown) => {
  process.stderr.write(`mayfly: ${explain(error)}\n`);
  process.exit(error instanceof UsageError ? 2 : 1);
});
