/**
 * The build under test. The bench runs a snapshot of `dist/` taken when it starts, not `dist/` itself:
 * another `npm run build` meanwhile (a test run, say) must not mix two builds in one benchmark. Besides
 * `coffer server` in a child process, the snapshot's openCoffer() can be opened in this process.
 */
import { cpSync, existsSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import type { SignedCall } from './signer.js';

export const REPO_ROOT = fileURLToPath(new URL('../../', import.meta.url));
/**
 * The snapshot is laid out as the repository is, package.json beside dist/: the CLI reads its version from
 * `../../package.json` relative to its own file (coffer --version).
 */
const SNAPSHOT_ROOT = fileURLToPath(new URL('./coffer-build/', import.meta.url));
const SNAPSHOT = join(SNAPSHOT_ROOT, 'dist');
/** The snapshot's dist/: where a bench process that runs Coffer's code itself imports it from (skeleton-server.ts). */
export const SNAPSHOT_DIST = SNAPSHOT;
/** Snapshots of the builds measured beside it (PostgreSQL suite, --compare-builds), one directory per label. */
const COMPARE_ROOT = fileURLToPath(new URL('./coffer-build-compare/', import.meta.url));

/**
 * The CLI entry (`coffer server ...`) of the snapshot: the bundle `bin/coffer` runs (dist/bundle/main.js), or
 * for a build from before bundling (`--build DIR`), its cli/main.js.
 */
export function cofferMain(snapshot = SNAPSHOT): string {
  const bundle = join(snapshot, 'bundle/main.js');
  return existsSync(bundle) ? bundle : join(snapshot, 'cli/main.js');
}

/**
 * Copies another build to run beside the one measured, in the same run (an A/B of a change); returns the CLI
 * entry of its copy.
 */
export function snapshotCompareBuild(label: string, from: string): string {
  if (!/^[\w-]+$/.test(label)) throw new Error(`a compared build's label is letters, digits, - and _: ${label}`);
  if (!existsSync(join(from, 'cli/main.js'))) throw new Error(`${join(from, 'cli/main.js')} is missing`);
  const root = join(COMPARE_ROOT, label);
  cpSync(from, join(root, 'dist'), { recursive: true });
  cpSync(join(REPO_ROOT, 'package.json'), join(root, 'package.json'));
  return cofferMain(join(root, 'dist'));
}

/**
 * The base and candidate builds of an in-process A/B copied beside the one measured; answers each copy's server
 * module (dist/server/index.js), which the A/B's child processes import.
 */
export function snapshotServerModules(builds: { base: string; candidate: string }): { base: string; candidate: string } {
  return {
    base: join(snapshotCompareBuild('base', builds.base), '../../server/index.js'),
    candidate: join(snapshotCompareBuild('candidate', builds.candidate), '../../server/index.js'),
  };
}
/**
 * The Node flags `bin/coffer` starts the server with (its `#!/usr/bin/env -S node ...` line), so the bench runs
 * Coffer the way a user's `coffer server` runs. `bin` is another checkout's bin/coffer (a compared build's flags).
 */
export function cofferNodeFlags(bin = join(REPO_ROOT, 'bin/coffer')): string[] {
  const shebang = readFileSync(bin, 'utf8').split('\n', 1)[0]!;
  const words = shebang.replace(/^#!\S+/, '').trim().split(/\s+/);
  return words.slice(words.indexOf('node') + 1);
}

/** The module exporting openCoffer(). */
export const COFFER_SERVER_MODULE = join(SNAPSHOT, 'server/index.js');

/**
 * Copies the build to measure: `dist/`, or another compiled tree (`--build DIR`, say a clean checkout of a
 * commit built with tsc) to compare two versions on the same machine. The copy lives inside the repository
 * so that its imports resolve against the repository's node_modules.
 */
export function snapshotBuild(from = join(REPO_ROOT, 'dist')): void {
  if (!existsSync(join(from, 'cli/main.js'))) throw new Error(`${join(from, 'cli/main.js')} is missing: run \`npm run build\` first`);
  removeSnapshot();
  cpSync(from, SNAPSHOT, { recursive: true });
  cpSync(join(REPO_ROOT, 'package.json'), join(SNAPSHOT_ROOT, 'package.json'));
}

export function removeSnapshot(): void {
  rmSync(SNAPSHOT_ROOT, { recursive: true, force: true });
  rmSync(COMPARE_ROOT, { recursive: true, force: true });
}

type RawRequest = { method: string; path: string; query: string; headers: Record<string, string>; body: Buffer; sourceIp?: string };
type RawResponse = { status: number; body: string };
/** The slice of the built server's API used here (dist/server/index.js). */
type CofferModule = {
  openCoffer(config: Record<string, unknown>): Promise<{ pipeline(request: RawRequest): Promise<RawResponse>; close(): Promise<void> }>;
};

export type InProcessCoffer = {
  /** Hands a signed request to the pipeline, as the HTTP edge would. */
  call(signed: SignedCall): Promise<RawResponse>;
  close(): Promise<void>;
};

const quietLogger = {
  debug() {},
  info() {},
  warn() {},
  error(message: string, fields?: unknown) {
    process.stderr.write(`coffer (in-process): ${message} ${JSON.stringify(fields ?? {})}\n`);
  },
};

/**
 * Opens the data dir with the build's openCoffer(), in this process (dev mode: key test/test). `config` adds to
 * the configuration, e.g. `{ postgres: { url }, rootKeyBase64 }` for a node of a PostgreSQL deployment.
 */
export async function openInProcess(dataDir: string, config: Record<string, unknown> = {}): Promise<InProcessCoffer> {
  const { openCoffer } = (await import(pathToFileURL(COFFER_SERVER_MODULE).href)) as CofferModule;
  const coffer = await openCoffer({ dataDir, devMode: true, maintenanceIntervalMs: 0, logger: quietLogger, ...config });
  return {
    call: ({ headers, body }) =>
      coffer.pipeline({ method: 'POST', path: '/', query: '', headers: { ...headers, 'content-length': String(body.length) }, body, sourceIp: '127.0.0.1' }),
    close: () => coffer.close(),
  };
}
