import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { describe, it } from 'node:test';
import { countRepeatedIvs, ivCensus } from './iv-census.js';

/**
 * The reduced run of the IV census (`npm run reliability:tamper` runs 10 million): the IVs KMS's own sealing code
 * produces under one key never repeat. The counter itself is checked first, on IVs with planted repeats.
 */
describe('IVs of KMS ciphertexts under one key', () => {
  it('the census counts planted repeats: a shared 8-byte prefix alone is not a repeat, a whole IV is', () => {
    const ivs = randomBytes(12 * 1000);
    ivs.copy(ivs, 12 * 500, 12 * 10, 12 * 11); // IV 500 = IV 10
    ivs.copy(ivs, 12 * 700, 12 * 20, 12 * 20 + 8); // IV 700 shares IV 20's prefix only
    ivs[12 * 700 + 11] = ivs[12 * 20 + 11]! ^ 1;
    assert.deepEqual(countRepeatedIvs(ivs), { prefixCollisions: 2, collisions: 1 });
    assert.deepEqual(countRepeatedIvs(randomBytes(12 * 1000)), { prefixCollisions: 0, collisions: 0 });
  });

  it('200,000 encryptions through encryptUnder: 200,000 distinct IVs', async () => {
    const census = await ivCensus(200_000);
    assert.equal(census.encryptions, 200_000);
    assert.equal(census.distinctBackingKeys, 1);
    assert.equal(census.collisions, 0);
  });
});
