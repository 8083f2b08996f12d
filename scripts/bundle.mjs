/**
 * Bundles the compiled server (dist/) into dist/bundle/: `main.js` (the `coffer` command), `remote.js` (`coffer
 * run` and `coffer render` without the server: half their start-up, bench/RESULTS.md) and `audit-writer.js`
 * (the audit writer thread, which main.js starts from `./audit-writer.js` beside itself). Node loads one file
 * instead of ~280 ES modules: `coffer server` answers its first request ~100 ms sooner (bench/RESULTS.md).
 * Native and on-demand packages stay outside the bundle and load from node_modules as before.
 */
import { build } from 'esbuild';

await build({
  // `remote.js`: `coffer run` and `coffer render` alone (src/cli/remote-main.ts), which bin/coffer starts for them.
  entryPoints: { main: 'dist/cli/main.js', 'audit-writer': 'dist/store/sqlite/audit-writer.js', remote: 'dist/cli/remote-main.js' },
  outdir: 'dist/bundle',
  bundle: true,
  platform: 'node',
  target: 'node24',
  format: 'esm',
  // Native code (better-sqlite3) and packages loaded only on demand (the PostgreSQL and MySQL rotators' drivers,
  // the Lambda client) stay in node_modules; zod, commander and the rest are bundled.
  external: ['better-sqlite3', 'pg', 'mysql2', 'mysql2/*', '@aws-sdk/*'],
  // Bundled code that uses require() (none of Coffer's own, but a dependency might) gets one.
  banner: { js: "import { createRequire as __cofferCreateRequire } from 'node:module'; const require = __cofferCreateRequire(import.meta.url);" },
  logLevel: 'warning',
});
