import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { createQueryRouter, createRestRouter, createTargetRouter } from '../../../src/protocol/index.js';
import { echoed, MAX_ECHOED_CHARS } from '../../../src/protocol/echo.js';

describe('echoed: what an error message may repeat of unvalidated text', () => {
  it('keeps plain names as they are', () => {
    assert.equal(echoed('TrentService.ListKeys'), 'TrentService.ListKeys');
    assert.equal(echoed('/2015-03-31/functions/f:1'), '/2015-03-31/functions/f:1');
  });

  it(`cuts to ${MAX_ECHOED_CHARS} characters and marks the cut`, () => {
    const shown = echoed('x'.repeat(10_000));
    assert.equal(shown, `${'x'.repeat(MAX_ECHOED_CHARS)}...`);
  });

  it('shows every other character as ?', () => {
    assert.equal(echoed('a b"c\n<d>\u0000é'), 'a?b?c??d???');
  });
});

describe('the routers name an unknown operation only through echoed', () => {
  const long = `Op${'A'.repeat(200)}<script>`;

  it('JSON 1.1 X-Amz-Target', () => {
    const route = createTargetRouter([]);
    assert.throws(() => route(`TrentService.${long}`), (error: Error) => error.message.length < 120 && !error.message.includes('<'));
  });

  it('Query Action and service', () => {
    const router = createQueryRouter([]);
    assert.throws(() => router.route(`svc${long}`, Buffer.from('Action=x')), (error: Error) => error.message.length < 160 && !error.message.includes('<'));
  });

  it('REST method and path', () => {
    const router = createRestRouter([]);
    assert.throws(() => router.route('GET', `/2015-03-31/${long}`), (error: Error) => error.message.length < 200 && !error.message.includes('<'));
  });
});
