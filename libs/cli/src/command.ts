import type { Output } from './output.js';

/** Flags every command may read; each reads only its own. */
export interface Flags {
  readonly json: boolean;
  readonly databaseUrl: string | undefined;
  readonly rolePrefix: string | undefined;
  readonly skipRoles: boolean;
  readonly reason: string | undefined;
  readonly serial: string | undefined;
  readonly issuedBefore: string | undefined;
  /** The signing keyring directory (`mayfly keys`). */
  readonly dir: string | undefined;
  readonly minPublished: string | undefined;
  readonly maxTtl: string | undefined;
  readonly grace: string | undefined;
  readonly trustDomain: string | undefined;
  /** `mayfly mesh demo --every S`: run the demo again every S seconds, until stopped. */
  readonly every: string | undefined;
  /** `mayfly audit verify --public-key FILE`: the checkpoint key to trust. */
  readonly publicKey: string | undefined;
  /** `mayfly audit verify`: where the audit chain's external head is (NATS URL, stream, subject) and how old it may be. */
  readonly nats: string | undefined;
  readonly headStream: string | undefined;
  readonly headSubject: string | undefined;
  readonly maxHeadAge: string | undefined;
  /** Audit queries: filters, page size, follow, output file. */
  readonly grant: string | undefined;
  readonly task: string | undefined;
  readonly workload: string | undefined;
  readonly kind: string | undefined;
  readonly since: string | undefined;
  readonly until: string | undefined;
  readonly limit: string | undefined;
  readonly follow: boolean;
  readonly out: string | undefined;
  /** A person's OIDC ID token (`mayfly approvals|break-glass|grants`), or @FILE holding it. */
  readonly idToken: string | undefined;
  /** `mayfly break-glass review --review TEXT`. */
  readonly review: string | undefined;
  /** `mayfly grants list --status S[,S]`. */
  readonly status: string | undefined;
  /** `mayfly people token --groups G[,G]`. */
  readonly groups: string | undefined;
  /** `mayfly break-glass list --all`. */
  readonly all: boolean;
  /** `mayfly workloads create|update`: the record's fields (update: only those given change). */
  readonly ownerTeam: string | undefined;
  readonly ownerContact: string | undefined;
  readonly environment: string | undefined;
  readonly riskTier: string | undefined;
  /** "RESOURCE=ACTION,ACTION;RESOURCE=…". */
  readonly ceiling: string | undefined;
  readonly shared: boolean | undefined;
  /** `mayfly workloads update --revoke-exceeding`: revoke live grants beyond a smaller ceiling. */
  readonly revokeExceeding: boolean;
  /** `mayfly workloads create|update --break-glass-allowed true|false` (default false). */
  readonly breakGlassAllowed: string | undefined;
  /** `mayfly workloads list --prefix P`. */
  readonly prefix: string | undefined;
  /** `mayfly issuers put`: the issuer's record (--audience is repeatable: evidence may carry any one). */
  readonly audiences: readonly string[];
  readonly jwksUri: string | undefined;
  readonly jwksFile: string | undefined;
  readonly issuerKind: string | undefined;
  readonly algorithms: string | undefined;
  readonly replay: string | undefined;
  readonly maxLifetime: string | undefined;
  /** `mayfly issuers put --ca-file PEM`: an X.509 CA's certificates. */
  readonly caFile: string | undefined;
  /** `mayfly binding-rules create`: claims to match exactly (NAME=VALUE, repeatable), the SPIFFE ID template, a description. */
  readonly match: readonly string[];
  readonly template: string | undefined;
  readonly description: string | undefined;
  /** `mayfly policy explain --claim NAME=VALUE` (repeatable): evidence claims policies see. */
  readonly claim: readonly string[];
  /** `mayfly resources put`: where workloads connect, the admin credential's file, what each action gives a login. */
  readonly host: string | undefined;
  readonly port: string | undefined;
  readonly database: string | undefined;
  readonly adminCredentialFile: string | undefined;
  /** ACTION=GRANT[,GRANT] (repeatable): roles (SQL) or ACL rules (Redis). */
  readonly map: readonly string[];
  readonly connectionLimit: string | undefined;
  /** `mayfly policy explain`: the request to explain. */
  readonly resource: string | undefined;
  readonly actions: string | undefined;
  readonly taskKind: string | undefined;
  readonly reference: string | undefined;
  readonly justification: string | undefined;
  readonly ttl: string | undefined;
  readonly breakGlass: boolean;
  /** `mayfly agent run|check --config FILE`. */
  readonly config: string | undefined;
}

export interface CommandContext {
  readonly flags: Flags;
  /** Words after `mayfly <noun> <verb>`. */
  readonly args: readonly string[];
  readonly out: Output;
  /** Local state: MAYFLY_STATE_DIR, else ./.mayfly. */
  readonly stateDir: string;
}

export interface Command {
  readonly summary: string;
  run(context: CommandContext): Promise<void>;
}
