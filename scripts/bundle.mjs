/**
 * Bundles the compiled server (dist/) into dist/bundle/: `cli.js` (the `coffer` command), `remote-cli.js` (`coffer
 * run` and `coffer render` without the server: half their start-up, bench/RESULTS.md) and `audit-writer.js`
 * (the audit writer thread, which cli.js starts from `./audit-writer.js` beside itself); `main.js` and `remote.js`
 * load the first two with Node's compile cache on (below). Node loads one file
 * instead of ~280 ES modules: `coffer server` answers its first request ~100 ms sooner (bench/RESULTS.md).
 * Native and on-demand packages stay outside the bundle and load from node_modules as before.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { builtinModules } from 'node:module';
import { build } from 'esbuild';

/**
 * Some of Node's built-in modules through `process.getBuiltinModule()`, loaded when first used, not ESM `import`:
 * - an ESM import of a built-in builds its ESM facade, which reads every export once, and reading node:http's lazy
 *   WebSocket/fetch getters loaded undici on every start;
 * - an import runs when the importing module is evaluated, so every built-in the bundle names (tls and https for
 *   the rotators' clients, readline for prompts, zlib for audit imports...) loaded at every start, used or not.
 * Each of LAZY_BUILTINS gets a CommonJS stand-in whose properties load the module when one is first read (or
 * written); its names are the module's exports on the Node that builds the bundle. Only these: esbuild wraps a
 * CommonJS import in every module that imports it (a copy of its property list each), which for every built-in
 * of every module cost more than the ESM facades it saved (bench/RESULTS.md, issue 21).
 */
const LAZY_BUILTINS = new Set(['http', 'https', 'tls', 'http2', 'readline', 'readline/promises', 'zlib', 'child_process', 'dns', 'dns/promises', 'dgram', 'v8', 'repl', 'inspector']);
const lazySpecifier = (path) => LAZY_BUILTINS.has(path.replace(/^node:/, '')) && builtinModules.includes(path.replace(/^node:/, ''));
function lazyBuiltin(specifier) {
  const exported = process.getBuiltinModule(specifier);
  // A module that is itself a class or an instance (node:events, node:stream, node:cluster, node:process) is
  // handed over as it is, loaded where it is imported: its methods need it as `this`, and a default import of
  // it must be the class itself.
  const plain = typeof exported === 'object' && [Object.prototype, null].includes(Object.getPrototypeOf(exported));
  if (!plain) return `module.exports = process.getBuiltinModule(${JSON.stringify(specifier)});`;
  const names = Object.keys(exported).filter((name) => name !== 'default');
  const property = (name) => {
    const key = JSON.stringify(name);
    return `  get ${key}() { return load()[${key}]; },\n  set ${key}(value) { load()[${key}] = value; },`;
  };
  return [
    `let loaded;`,
    `const load = () => (loaded ??= process.getBuiltinModule(${JSON.stringify(specifier)}));`,
    `module.exports = {\n${names.map(property).join('\n')}\n};`,
  ].join('\n');
}
const builtinsOnUse = {
  name: 'builtins-on-use',
  setup(build) {
    build.onResolve({ filter: /^[\w:/]+$/ }, (args) => (lazySpecifier(args.path) ? { path: args.path, namespace: 'node-builtin' } : undefined));
    build.onLoad({ filter: /.*/, namespace: 'node-builtin' }, (args) => ({ contents: lazyBuiltin(args.path), loader: 'js' }));
  },
};

await build({
  // `remote-cli.js`: `coffer run` and `coffer render` alone (src/cli/remote-main.ts), which bin/coffer starts for them.
  entryPoints: { cli: 'dist/cli/main.js', 'audit-writer': 'dist/store/sqlite/audit-writer.js', 'remote-cli': 'dist/cli/remote-main.js' },
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
  plugins: [builtinsOnUse],
  // Every non-ASCII character in code as an escape (esbuild's default, relied on by asciiComments below).
  charset: 'ascii',
  logLevel: 'warning',
});
asciiComments(['dist/bundle/cli.js', 'dist/bundle/remote-cli.js', 'dist/bundle/audit-writer.js']);

/**
 * Node keeps a module's source as long as its code runs (V8 compiles functions lazily from it): a 2.8 MB bundle
 * with one character above U+007F anywhere is decoded to two bytes a character, 5.4 MB resident for the life of
 * the server, against 2.7 MB when all of it is ASCII (bench/RESULTS.md, rss-200). esbuild escapes every such
 * character in strings, templates, regular expressions and names (`charset: 'ascii'`), but copies the comments
 * it keeps as they are (an em dash, a `≈`, a translated zod message); there, and only there, they are left, so
 * each is written as its `\u{...}` escape, which changes no code.
 */
function asciiComments(files) {
  for (const file of files) {
    const text = readFileSync(file, 'utf8');
    const ascii = text.replace(/[^\x00-\x7f]/gu, (char) => `\\u{${char.codePointAt(0).toString(16)}}`);
    if (ascii !== text) writeFileSync(file, ascii);
  }
}

/**
 * `main.js` and `remote.js`, the files bin/coffer (and the bench) start, turn on Node's compile cache and then load
 * their bundle: V8 compiled the 2.7 MB bundle on every start (bench/RESULTS.md, issue 21: 145 ms of a profiled
 * start on a loaded machine, 23–65 ms with the cache) unless it finds the code cache of an earlier start. The
 * cache must be turned on before the bundle is loaded, so it cannot be done inside it. It lives beside the code
 * (dist/bundle/compile-cache/), writable by exactly those who can change the code: a cache anywhere else (the
 * default is the shared tmp dir) would let whoever can write there hand the server compiled code. Where the
 * installation is read-only for the user running it, Node reports the cache as not enabled and the start goes
 * on without it. NODE_COMPILE_CACHE, when set, wins (Node turns it on first); NODE_DISABLE_COMPILE_CACHE=1
 * turns it off.
 */
const loader = (bundle) => `// Written by scripts/bundle.mjs: Node's compile cache beside the code, then the bundle (see there).
import { enableCompileCache } from 'node:module';
import { fileURLToPath } from 'node:url';
enableCompileCache(fileURLToPath(new URL('./compile-cache/', import.meta.url)));
await import('./${bundle}');
`;
writeFileSync('dist/bundle/main.js', loader('cli.js'));
writeFileSync('dist/bundle/remote.js', loader('remote-cli.js'));
