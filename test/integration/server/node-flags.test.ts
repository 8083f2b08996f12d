import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { killChildServers, startChildServer } from '../../helpers/child-server.js';

/**
 * `coffer` run as a user runs it (the executable, not `node bin/coffer`) starts Node with V8's young generation
 * bounded: left to V8, a large machine gets two 64 MB semi-spaces, which load fills and keeps resident; and with
 * the old generation's growth bounded (a heap limit under 2 GB lowers V8's growth factor, and a growing percent of
 * 20 lowers it to 1.2; issue 21, peak RSS; bench/rss-probe.ts measures it).
 */
describe('bin/coffer Node flags (child process)', () => {
  const tempRoot = mkdtempSync(join(tmpdir(), 'coffer-node-flags-'));
  after(async () => {
    await killChildServers();
    rmSync(tempRoot, { recursive: true, force: true });
  });

  it('runs the server with a 16 MB semi-space, a 1 GB old-generation limit grown by 20 %, and two malloc arenas, and it answers', async () => {
    const server = await startChildServer({ dataDir: join(tempRoot, 'data'), args: ['--dev'], direct: true });
    const commandLine = readFileSync(`/proc/${server.pid}/cmdline`, 'utf8').split('\0');
    assert.ok(commandLine.includes('--max-semi-space-size=16'), `node's command line: ${commandLine.join(' ')}`);
    // The young generation starts at 16 MB: start-up's allocations die young instead of filling the old generation.
    assert.ok(commandLine.includes('--min-semi-space-size=16'), `node's command line: ${commandLine.join(' ')}`);
    assert.ok(commandLine.includes('--max-old-space-size=1024'), `node's command line: ${commandLine.join(' ')}`);
    assert.ok(commandLine.includes('--heap-growing-percent=20'), `node's command line: ${commandLine.join(' ')}`);
    const environment = readFileSync(`/proc/${server.pid}/environ`, 'utf8').split('\0');
    assert.ok(environment.includes('MALLOC_ARENA_MAX=2'), 'MALLOC_ARENA_MAX=2 in the server\'s environment');
    const health = await fetch(new URL('/health', server.url));
    assert.equal(health.status, 200);
    assert.equal((await server.stop()).code, 0);
  });
});
