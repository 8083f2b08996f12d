/**
 * The dependency rules of the architecture (docs/ARCHITECTURE.md): a module may import only what its row allows. `npm test` runs this.
 */
const allowed = {
  core: [],
  crypto: ['core'],
  store: ['core'],
  policy: ['core'],
  auth: ['core', 'store', 'crypto'],
  audit: ['core', 'store'],
  kms: ['core', 'crypto', 'store', 'policy'],
  secrets: ['core', 'store', 'policy', 'kms'],
  functions: ['core', 'store'],
  rotation: ['core', 'store', 'secrets', 'functions'],
  iam: ['core', 'store', 'policy', 'auth'],
  ssm: ['core', 'store', 'policy', 'kms'],
  protocol: ['core'],
  agent: ['core'],
  cli: ['agent', 'server', 'core', 'crypto'],
  // Browser code: a client of the public API like any other, through the AWS SDK.
  console: [],
};
const modules = ['core', 'crypto', 'store', 'policy', 'auth', 'audit', 'kms', 'secrets', 'functions', 'rotation', 'iam', 'ssm', 'protocol', 'server', 'agent', 'cli', 'console'];

module.exports = {
  forbidden: [
    ...Object.entries(allowed).map(([module, mayImport]) => ({
      name: `${module}-imports`,
      comment: `src/${module} may import only: ${mayImport.join(', ') || 'nothing internal'}`,
      severity: 'error',
      from: { path: `^src/${module}/` },
      to: {
        path: `^src/(${modules.filter((other) => other !== module && !mayImport.includes(other)).join('|')})/`,
      },
    })),
    {
      name: 'store-backends-only-in-composition',
      comment: 'a backend (src/store/sqlite/, src/store/postgres/) is chosen by the composition root: only server/ and cli/ import it; every other module sees the repository interfaces (store/index.ts)',
      severity: 'error',
      from: { path: '^src/', pathNot: '^src/(server|cli|store/(sqlite|postgres))/' },
      to: { path: '^src/store/(sqlite|postgres)/' },
    },
    {
      name: 'store-backend-through-its-entry',
      comment: 'outside the backend, src/store/sqlite/ is imported only through its index.ts',
      severity: 'error',
      from: { path: '^src/', pathNot: '^src/store/sqlite/' },
      to: { path: '^src/store/sqlite/', pathNot: '^src/store/sqlite/index\\.ts$' },
    },
    {
      name: 'postgres-backend-through-its-entry',
      comment: 'outside the backend, src/store/postgres/ is imported only through its index.ts',
      severity: 'error',
      from: { path: '^src/', pathNot: '^src/store/postgres/' },
      to: { path: '^src/store/postgres/', pathNot: '^src/store/postgres/index\\.ts$' },
    },
    {
      name: 'backends-apart',
      comment: 'one backend never imports another: each stands on the repository interfaces alone',
      severity: 'error',
      from: { path: '^src/store/(sqlite|postgres)/' },
      to: { path: '^src/store/(sqlite|postgres)/', pathNot: '^src/store/$1/' },
    },
    {
      name: 'agent-only-aws-sdk-clients',
      comment: 'src/agent is a client of Secrets Manager like any other application: of npm packages it imports only the AWS SDK clients (and core inside Coffer), so coffer/secret-cache stays small',
      severity: 'error',
      from: { path: '^src/agent/' },
      to: { dependencyTypes: ['npm', 'npm-dev', 'npm-optional', 'npm-peer', 'npm-no-pkg', 'npm-unknown'], pathNot: '^node_modules/@aws-sdk/client-' },
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
    tsPreCompilationDeps: true,
    tsConfig: { fileName: 'tsconfig.json' },
    enhancedResolveOptions: { extensions: ['.ts', '.js'] },
  },
};
