import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { cpSync, existsSync, mkdtempSync, readdirSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { promisify } from 'node:util';
import { COFFER_BIN, REPO_ROOT, childEnv } from '../../helpers/child-server.js';

const run = promisify(execFile);

/** Every file under `dir`, recursively (the compile cache keeps its entries in a directory per Node version). */
function filesUnder(dir: string): string[] {
  return readdirSync(dir, { recursive: true, withFileTypes: true }).filter((entry) => entry.isFile()).map((entry) => entry.name);
}

/**
 * `coffer` starts with Node's compile cache on (scripts/bundle.mjs writes the loader that turns it on): V8 finds the
 * compiled bundle of an earlier start instead of compiling 2.7 MB again (issue 21, cold start). The cache lives
 * beside the code, never in the shared tmp dir, and a start that cannot write it goes on without it.
 */
describe('compile cache of the coffer command', () => {
  const tempRoot = mkdtempSync(join(tmpdir(), 'coffer-compile-cache-'));
  after(() => rmSync(tempRoot, { recursive: true, force: true }));

  it('keeps the compiled bundle beside the code, in dist/bundle/compile-cache/', async () => {
    const { stdout } = await run(COFFER_BIN, ['--version'], { env: childEnv() });
    assert.match(stdout, /^\d+\.\d+\.\d+\n$/);
    const cacheDir = join(REPO_ROOT, 'dist/bundle/compile-cache');
    assert.ok(existsSync(cacheDir), `${cacheDir} exists after a start`);
    assert.ok(filesUnder(cacheDir).length > 0, 'the cache holds at least one compiled module');
  });

  it('starts without the cache where it cannot be written', async () => {
    // A copy of the installation whose cache location is a file: the directory can't be created there.
    const install = join(tempRoot, 'install');
    cpSync(join(REPO_ROOT, 'dist/bundle'), join(install, 'dist/bundle'), { recursive: true, filter: (source) => !source.includes('compile-cache') });
    cpSync(join(REPO_ROOT, 'package.json'), join(install, 'package.json'));
    symlinkSync(join(REPO_ROOT, 'node_modules'), join(install, 'node_modules'));
    writeFileSync(join(install, 'dist/bundle/compile-cache'), 'not a directory\n');
    const { stdout, stderr } = await run(process.execPath, [join(install, 'dist/bundle/main.js'), '--version'], { env: childEnv() });
    assert.match(stdout, /^\d+\.\d+\.\d+\n$/);
    assert.equal(stderr, '');
  });
});
