import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { rememberedWithLast } from '../../../src/core/remembered.js';

describe('rememberedWithLast', () => {
  test('answers the last key and the remembered ones without computing again; a long key and a throw are never kept', () => {
    const computed: string[] = [];
    const lengthOf = rememberedWithLast((key: string) => {
      computed.push(key);
      if (key.startsWith('bad')) throw new Error('refused');
      return { length: key.length };
    }, 8);
    const first = lengthOf('abc');
    assert.equal(lengthOf(`ab${'c'}`), first);
    assert.deepEqual(lengthOf('de'), { length: 2 });
    assert.equal(lengthOf('abc'), first);
    assert.deepEqual(computed, ['abc', 'de']);
    for (let attempt = 0; attempt < 2; attempt++) assert.deepEqual(lengthOf('123456789'), { length: 9 });
    for (let attempt = 0; attempt < 2; attempt++) assert.throws(() => lengthOf('bad'), /refused/);
    assert.deepEqual(computed, ['abc', 'de', '123456789', '123456789', 'bad', 'bad']);
    assert.equal(lengthOf('de').length, 2);
    assert.equal(computed.length, 6);
  });
});
