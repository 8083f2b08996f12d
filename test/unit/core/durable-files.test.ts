import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { replaceFileDurably, writeFileDurably } from '../../../src/core/index.js';

describe('durable files', () => {
  const directory = mkdtempSync(join(tmpdir(), 'coffer-durable-'));
  after(() => rmSync(directory, { recursive: true, force: true }));

  it('writes a new file 0600 and replaces an existing one in one step', () => {
    const path = join(directory, 'a.txt');
    writeFileDurably(path, 'first', { exclusive: true });
    assert.equal(statSync(path).mode & 0o777, 0o600);
    replaceFileDurably(path, 'second', join(directory, '.a.tmp'), { exclusive: true });
    assert.equal(readFileSync(path, 'utf8'), 'second');
    assert.deepEqual(readdirSync(directory), ['a.txt']);
  });

  it('never reuses an existing temporary file when exclusive, and leaves both files as they were', () => {
    const path = join(directory, 'b.txt');
    const temporary = join(directory, '.b.tmp');
    writeFileSync(path, 'original');
    writeFileSync(temporary, 'someone else');
    assert.throws(() => replaceFileDurably(path, 'new', temporary, { exclusive: true }), { code: 'EEXIST' });
    assert.equal(readFileSync(path, 'utf8'), 'original');
    assert.equal(readFileSync(temporary, 'utf8'), 'someone else');
  });

  it('a failed rename leaves the target as it was and removes the temporary file', () => {
    const target = join(directory, 'c-dir');
    mkdirSync(target);
    writeFileSync(join(target, 'inside'), 'kept');
    const temporary = join(directory, '.c.tmp');
    assert.throws(() => replaceFileDurably(target, 'new', temporary));
    assert.equal(readFileSync(join(target, 'inside'), 'utf8'), 'kept');
    assert.throws(() => statSync(temporary), { code: 'ENOENT' });
  });
});
