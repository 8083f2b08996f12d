import assert from 'node:assert/strict';
import { execFile, spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { promisify } from 'node:util';
import { ListKeysCommand } from '@aws-sdk/client-kms';
import { COFFER_BIN, REPO_ROOT, childEnv } from '../../helpers/child-server.js';
import { startTestServer, type TestServer } from '../../helpers/start-server.js';

const run = promisify(execFile);

/** The `coffer` command itself: its version, and how it behaves as the first stage of a pipe. */
describe('coffer command line', () => {
  it('--version and -V print the version of package.json', async () => {
    const { version } = JSON.parse(readFileSync(join(REPO_ROOT, 'package.json'), 'utf8')) as { version: string };
    for (const flag of ['--version', '-V']) {
      const { stdout, stderr } = await run(COFFER_BIN, [flag], { env: childEnv() });
      assert.equal(stdout, `${version}\n`);
      assert.equal(stderr, '');
    }
  });

  describe('coffer audit list | head', () => {
    let server: TestServer;

    before(async () => {
      server = await startTestServer();
      const kms = server.kms();
      // Enough events that their JSON lines overflow the pipe's buffer after head has gone.
      for (let batch = 0; batch < 10; batch++) {
        await Promise.all(Array.from({ length: 40 }, () => kms.send(new ListKeysCommand({}))));
      }
      kms.destroy();
      await server.stop();
    });
    after(async () => server.cleanup());

    it('exits 0 without a word on stderr when the reader stops early', () => {
      const script = `"${process.execPath}" "${COFFER_BIN}" audit list --data-dir "${server.dataDir}" --limit 400 | head -n 1 >/dev/null; echo "exit=\${PIPESTATUS[0]}"`;
      const result = spawnSync('bash', ['-c', script], { env: childEnv(), encoding: 'utf8' });
      assert.equal(result.stdout.trim(), 'exit=0', result.stderr);
      assert.equal(result.stderr, '');
    });
  });
});
