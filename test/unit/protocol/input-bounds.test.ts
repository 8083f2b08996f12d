import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { AwsError } from '../../../src/core/index.js';
import { decodeJsonBody, decodeQueryBody, MAX_INPUT_VALUES } from '../../../src/protocol/index.js';

const refused = (error: unknown) => error instanceof AwsError && error.code === 'SerializationException' && /more than 10000 values/.test(error.message);

describe('how many values one request may hold', () => {
  it('JSON: up to MAX_INPUT_VALUES list items and members over the whole document, nested or not', () => {
    const items = (count: number) => Array.from({ length: count }, () => '0').join(',');
    assert.equal((decodeJsonBody(Buffer.from(`{"A":[${items(MAX_INPUT_VALUES - 1)}]}`)).A as unknown[]).length, MAX_INPUT_VALUES - 1);
    assert.throws(() => decodeJsonBody(Buffer.from(`{"A":[${items(MAX_INPUT_VALUES)}]}`)), refused);
    // Spread over many small lists, or in a map, they count all the same.
    const lists = Array.from({ length: 101 }, () => `{"V":[${items(99)}]}`).join(',');
    assert.throws(() => decodeJsonBody(Buffer.from(`{"A":[${lists}]}`)), refused);
    const map = Array.from({ length: MAX_INPUT_VALUES }, (_, index) => `"k${index}":1`).join(',');
    assert.throws(() => decodeJsonBody(Buffer.from(`{"M":{${map}}}`)), refused);
  });

  it('JSON: a document nested 100,000 deep is walked without recursion', () => {
    assert.deepEqual(Object.keys(decodeJsonBody(Buffer.from(`{"A":${'['.repeat(5_000)}${']'.repeat(5_000)}}`))), ['A']);
    assert.throws(() => decodeJsonBody(Buffer.from(`{"A":${'['.repeat(100_000)}${']'.repeat(100_000)}}`)), refused);
  });

  it('Query: up to MAX_INPUT_VALUES parameters besides Action and Version', () => {
    const params = (count: number) => Array.from({ length: count }, (_, index) => `A.member.${index + 1}=x`).join('&');
    assert.equal((decodeQueryBody(Buffer.from(`Action=X&Version=1&${params(MAX_INPUT_VALUES)}`)).A as unknown[]).length, MAX_INPUT_VALUES);
    assert.throws(() => decodeQueryBody(Buffer.from(`Action=X&Version=1&${params(MAX_INPUT_VALUES + 1)}`)), refused);
  });
});
