// The dependency rule (docs/architecture.md, "Layers"). `npm run lint:architecture` checks it and
// .ci/run runs it; test/architecture/dependency-rule.test.ts shows it failing on a broken fixture.
//
// Paths are matched unanchored at the start ("(^|/)services/…") so that the fixtures under
// test/architecture/fixtures are judged by the same rules as the real tree.
const INFRASTRUCTURE_LIBS = 'db|bus|grpc|telemetry|config|keyring|pki|mesh|client|verifier|cli';
const INFRASTRUCTURE_PACKAGES = 'kysely|pg|pg-[a-z-]+|nats|@nats-io|@grpc|@opentelemetry|pino|jose|@cedar-policy|undici';

/** @type {import('dependency-cruiser').IConfiguration} */
module.exports = {
  forbidden: [
    {
      name: 'domain-imports-only-core-and-its-ports',
      comment:
        'Domain code decides; it does no I/O. It may import @mayfly/core, the contract (@mayfly/proto), the records and ' +
        'signed formats (@mayfly/model), node:crypto, its own service\'s domain/ (which holds its ports) and the ' +
        'interfaces of its extension seams. ' +
        'Repositories, NATS, files, clocks and gRPC are adapters injected in server.ts.',
      severity: 'error',
      from: { path: '(^|/)services/([^/]+)/src/domain/' },
      to: {
        pathNot: [
          '(^|/)services/$2/src/domain/',
          '(^|/)libs/core/src/',
          '(^|/)libs/proto/src/',
          '(^|/)libs/model/src/',
          // The interfaces of the service's extension seams (their implementations are adapters).
          '(^|/)services/$2/src/(credentials/credential-format|attestors/attestor)\\.ts$',
          '^(node:)?crypto$',
          // Its unit tests, beside it.
          '(^|/)node_modules/vitest/',
        ],
      },
    },
    {
      name: 'api-handlers-do-not-query-the-database',
      comment:
        'An api/ handler translates the contract; it reads and writes through the ports server.ts hands it, never with ' +
        'SQL: no kysely or pg, and no @mayfly/db (its repositories take a database handle).',
      severity: 'error',
      from: { path: '(^|/)services/[^/]+/src/api/' },
      to: { path: ['(^|/)node_modules/(kysely|pg)/', '^(kysely|pg)$', '(^|/)libs/db/'] },
    },
    {
      name: 'libs-do-not-import-services',
      comment: 'Shared code sits below the services; a lib that needs a service\'s code needs that code moved into a lib.',
      severity: 'error',
      from: { path: '(^|/)libs/' },
      to: { path: '(^|/)services/' },
    },
    {
      name: 'services-do-not-import-each-other',
      comment: 'Services talk over gRPC and NATS only.',
      severity: 'error',
      from: { path: '(^|/)services/([^/]+)/' },
      to: { path: '(^|/)services/', pathNot: '(^|/)services/$2/' },
    },
    {
      name: 'no-circular',
      severity: 'error',
      from: {},
      to: { circular: true },
    },
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    // Build output and generated code are not ours to judge (node_modules' dist/ must stay visible).
    exclude: { path: '^(libs|services)/[^/]+/dist/|^libs/proto/src/gen/' },
    tsPreCompilationDeps: true,
    tsConfig: { fileName: 'tsconfig.depcruise.json' },
    enhancedResolveOptions: {
      exportsFields: ['exports'],
      conditionNames: ['import', 'require', 'node', 'default', 'types'],
      mainFields: ['module', 'main', 'types'],
    },
  },
};
