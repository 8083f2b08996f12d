import assert from 'node:assert/strict';
import { inspect } from 'node:util';
import { describe, it } from 'node:test';
import { createLogger, Sensitive } from '../../../src/core/index.js';

describe('Sensitive<T>', () => {
  const value = new Sensitive(Buffer.from('super-secret-marker'));

  it('prints [redacted] through JSON, inspect and string conversion', () => {
    assert.equal(JSON.stringify({ Plaintext: value }), '{"Plaintext":"[redacted]"}');
    assert.equal(inspect({ value }).includes('super-secret-marker'), false);
    assert.equal(`${value}`, '[redacted]');
  });

  it('gives the value back only through reveal()', () => {
    assert.equal(value.reveal().toString(), 'super-secret-marker');
  });

  it('never reaches a log line', () => {
    const lines: string[] = [];
    createLogger({ write: (line) => lines.push(line) }).info('decrypted', { plaintext: value });
    assert.equal(lines.length, 1);
    assert.equal(lines[0]!.includes('super-secret-marker'), false);
    assert.match(lines[0]!, /\[redacted\]/);
  });
});
