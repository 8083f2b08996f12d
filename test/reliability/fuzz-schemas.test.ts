import assert from 'node:assert/strict';
import { it } from 'node:test';
import fc from 'fast-check';
import { AwsError } from '../../src/core/index.js';
import { decodeJsonBody, decodeQueryBody, validationError } from '../../src/protocol/index.js';
import { fuzzOperations } from './fuzz/catalog.js';
import { inputArbitrary } from './fuzz/schema-arbitrary.js';
import { encodeCall, jsonText } from './fuzz/wire.js';

/**
 * The schema layer on its own, as fast-check properties (no server): for every operation and any input the fuzzer
 * generates for it, decoding and the schema check either pass or end in an AwsError (SerializationException,
 * ValidationException in AWS's wording); nothing else is thrown. The full fuzzer (fuzz.test.ts) sends the
 * same inputs over HTTP.
 */
it('every operation: decode + schema check end in success or an AWS error, never another throw', () => {
  for (const operation of fuzzOperations()) {
    fc.assert(
      fc.property(inputArbitrary(operation.schema, new Map()), (input) => {
        // REST-JSON places some members in the path, query and headers: its whole input is checked as a JSON body.
        const body = operation.protocol === 'rest' ? Buffer.from(jsonText(input)) : encodeCall(operation, input).body;
        let decoded: Record<string, unknown>;
        try {
          decoded = operation.protocol === 'query' ? decodeQueryBody(body) : decodeJsonBody(body);
        } catch (error) {
          assert.ok(error instanceof AwsError && error.code === 'SerializationException', String(error));
          return;
        }
        const parsed = operation.schema.safeParse(decoded);
        if (parsed.success) return;
        const refusal = validationError(parsed.error, operation.schema, decoded);
        assert.equal(refusal.code, 'ValidationException', `${operation.service}:${operation.name}`);
        assert.match(refusal.message, /^\d+ validation errors? detected: Value/);
      }),
      { numRuns: 12, seed: Number(process.env.COFFER_FUZZ_SEED ?? Date.now() % 2 ** 31) },
    );
  }
});
