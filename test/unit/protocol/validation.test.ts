import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { z } from 'zod';
import { awsBlob, awsInt, awsList, awsMap, awsString, markSensitive, sensitiveBlob, sensitiveString } from '../../../src/core/index.js';
import { validationError } from '../../../src/protocol/validation.js';

const schema = z.object({
  AliasName: awsString({ min: 1, max: 256, pattern: /^[a-zA-Z0-9:/_-]+$/ }).optional(),
  Limit: awsInt({ min: 1, max: 100 }).optional(),
  Password: sensitiveString({ min: 7, max: 32 }).optional(),
  ApiPassword: awsString({ max: 4 }).optional(),
  Plaintext: sensitiveBlob({ max: 4 }).optional(),
  Blob: awsBlob({ max: 2 }).optional(),
  Credential: markSensitive(z.object({ Id: awsString({ max: 2 }) })).optional(),
  Names: awsList(awsString({ max: 3 })).optional(),
  Context: awsMap(awsString(), awsString({ max: 2 })).optional(),
});

function messageFor(input: Record<string, unknown>): string {
  const parsed = schema.safeParse(input);
  assert.equal(parsed.success, false);
  return validationError(parsed.error!, schema, input).message;
}

describe('validation messages', () => {
  it("show a non-sensitive scalar in AWS's form", () => {
    assert.equal(
      messageFor({ AliasName: 'alias/x!' }),
      "1 validation error detected: Value 'alias/x!' at 'aliasName' failed to satisfy constraint: Member must satisfy regular expression pattern: ^[a-zA-Z0-9:/_-]+$",
    );
    assert.equal(messageFor({ Limit: 0 }), "1 validation error detected: Value '0' at 'limit' failed to satisfy constraint: Member must have value greater than or equal to 1");
    assert.equal(messageFor({ Names: ['abcd'] }), "1 validation error detected: Value 'abcd' at 'names.1.member' failed to satisfy constraint: Member must have length less than or equal to 3");
  });

  it('never show a sensitive member, one inside a sensitive structure, one named like a secret, a blob or a map value', () => {
    const message = messageFor({
      Password: 'x'.repeat(40),
      ApiPassword: 'hunter2',
      Plaintext: Buffer.from('hunter2').toString('base64'),
      Blob: 'aGVsbG8=',
      Credential: { Id: 'hunter2' },
      Context: { key: 'hunter2' },
    });
    assert.match(message, /^6 validation errors detected: /);
    assert.ok(message.includes("Value at 'password' failed"), message);
    assert.ok(message.includes("Value at 'apiPassword' failed"), message);
    assert.ok(message.includes("Value at 'plaintext' failed"), message);
    assert.ok(message.includes("Value at 'blob' failed"), message);
    assert.ok(message.includes("Value at 'credential.id' failed"), message);
    assert.ok(message.includes("Value at 'context' failed to satisfy constraint: Map value must satisfy constraint"), message);
    for (const secret of ['hunter2', 'xxxxxxxx', 'aGVsbG8', 'key']) assert.ok(!message.includes(secret), message);
  });

  it('show null for a missing member', () => {
    const required = z.object({ KeyId: awsString() });
    const parsed = required.safeParse({});
    assert.equal(validationError(parsed.error!, required, {}).message, "1 validation error detected: Value null at 'keyId' failed to satisfy constraint: Member must not be null");
  });
});
