/**
 * The hot operations' hand-written parses (OperationSpec.parseCommon: Decrypt, GetSecretValue) against their zod
 * schemas: for every input, parseCommon either declines (undefined) or gives exactly what the schema gives (same
 * members in the same order, same values, the blob in a buffer of its own); it never takes an input the schema
 * refuses. The inputs are the well-formed ones clients send and, around them, each way a member can be wrong.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { describe, it } from 'node:test';
import { parseCommonDecrypt, schemas as kmsSchemas } from '../../../src/kms/schemas.js';
import { parseCommonGetSecretValue, schemas as secretsSchemas } from '../../../src/secrets/schemas.js';
import type { ZodType } from 'zod';

const base64 = (bytes: number) => randomBytes(bytes).toString('base64');

/** Each input: what the schema gives, and what parseCommon gives (undefined, or the same). Returns how many it took. */
function agreesWithSchema(schema: ZodType, parseCommon: (input: Record<string, unknown>) => unknown, inputs: readonly unknown[]): number {
  let taken = 0;
  for (const input of inputs) {
    const expected = schema.safeParse(structuredClone(input));
    const given = parseCommon(structuredClone(input) as Record<string, unknown>);
    if (given === undefined) continue;
    taken += 1;
    assert.ok(expected.success, `parseCommon took an input the schema refuses: ${JSON.stringify(input).slice(0, 200)}`);
    assert.deepEqual(given, expected.data);
    assert.deepEqual(Object.keys(given as object), Object.keys(expected.data as object), 'members in the schema order');
  }
  return taken;
}

describe('parseCommonDecrypt', () => {
  const blob = base64(1085);
  const wellFormed = [
    { CiphertextBlob: blob },
    { CiphertextBlob: blob, EncryptionContext: { purpose: 'coffer-bench' } },
    { EncryptionContext: { SecretARN: 'arn:aws:secretsmanager:us-east-1:000000000000:secret:a-AbCdEf', SecretVersionId: 'v' }, CiphertextBlob: blob },
    { CiphertextBlob: blob, EncryptionContext: {} },
    { CiphertextBlob: blob, KeyId: 'alias/x' },
    { KeyId: 'k'.repeat(2048), CiphertextBlob: blob, EncryptionContext: { b: '1', a: '2', '10': 'n', '': '' } },
    { CiphertextBlob: base64(1) },
    { CiphertextBlob: base64(6144) },
  ];
  const malformed = [
    {},
    { CiphertextBlob: '' },
    { CiphertextBlob: base64(6145) },
    { CiphertextBlob: blob.slice(1) },
    { CiphertextBlob: `${blob.slice(0, -4)}-_AA` },
    { CiphertextBlob: 'é'.repeat(8) },
    { CiphertextBlob: 12 },
    { CiphertextBlob: null },
    { CiphertextBlob: blob, EncryptionContext: null },
    { CiphertextBlob: blob, EncryptionContext: [] },
    { CiphertextBlob: blob, EncryptionContext: 'purpose' },
    { CiphertextBlob: blob, EncryptionContext: { purpose: 1 } },
    { CiphertextBlob: blob, EncryptionContext: { purpose: null } },
    { CiphertextBlob: blob, EncryptionContext: { nested: { a: 'b' } } },
    { CiphertextBlob: blob, KeyId: '' },
    { CiphertextBlob: blob, KeyId: 'k'.repeat(2049) },
    { CiphertextBlob: blob, KeyId: null },
    { CiphertextBlob: blob, KeyId: 7 },
  ];
  // Members the schema knows but parseCommon leaves to it, well-formed or not, and members it does not know.
  const leftToSchema = [
    { CiphertextBlob: blob, GrantTokens: ['t'] },
    { CiphertextBlob: blob, EncryptionAlgorithm: 'SYMMETRIC_DEFAULT' },
    { CiphertextBlob: blob, DryRun: true },
    { CiphertextBlob: blob, Recipient: {} },
    { CiphertextBlob: blob, Unknown: 'x' },
  ];

  it('gives what the schema gives for the common inputs', () => {
    assert.equal(agreesWithSchema(kmsSchemas.Decrypt, parseCommonDecrypt, wellFormed), wellFormed.length);
  });

  it('declines every input the schema refuses, and the members it does not parse', () => {
    assert.equal(agreesWithSchema(kmsSchemas.Decrypt, parseCommonDecrypt, [...malformed, ...leftToSchema]), 0);
  });

  it("declines a context member named __proto__ (zod's copy drops it) and takes the same context without it", () => {
    const withProto = JSON.parse(`{"CiphertextBlob":"${blob}","EncryptionContext":{"__proto__":"x","k":"v"}}`) as Record<string, unknown>;
    assert.equal(parseCommonDecrypt(withProto), undefined);
    assert.equal(agreesWithSchema(kmsSchemas.Decrypt, parseCommonDecrypt, [{ CiphertextBlob: blob, EncryptionContext: { k: 'v' } }]), 1);
  });

  it('decodes the blob into a buffer of its own and copies the context', () => {
    const input = { CiphertextBlob: blob, EncryptionContext: { purpose: 'p' } };
    const parsed = parseCommonDecrypt(input)!;
    assert.equal(parsed.CiphertextBlob.byteOffset, 0);
    assert.equal(parsed.CiphertextBlob.buffer.byteLength, parsed.CiphertextBlob.length);
    assert.notEqual(parsed.EncryptionContext, input.EncryptionContext);
  });
});

describe('parseCommonGetSecretValue', () => {
  const versionId = 'a'.repeat(36);
  const wellFormed = [
    { SecretId: 'hot' },
    { SecretId: 'arn:aws:secretsmanager:us-east-1:000000000000:secret:hot-AbCdEf' },
    { SecretId: 's'.repeat(2048) },
    { SecretId: 'hot', VersionStage: 'AWSPREVIOUS' },
    { VersionId: versionId, SecretId: 'hot' },
    { SecretId: 'hot', VersionId: 'v'.repeat(32), VersionStage: 's'.repeat(256) },
    { SecretId: 'hot', VersionId: 'v'.repeat(64) },
  ];
  const malformed = [
    {},
    { SecretId: '' },
    { SecretId: 's'.repeat(2049) },
    { SecretId: 5 },
    { SecretId: null },
    { SecretId: 'hot', VersionId: 'v'.repeat(31) },
    { SecretId: 'hot', VersionId: 'v'.repeat(65) },
    { SecretId: 'hot', VersionStage: '' },
    { SecretId: 'hot', VersionStage: 's'.repeat(257) },
    { SecretId: 'hot', VersionStage: null },
    { VersionStage: 'AWSCURRENT' },
    { SecretId: 'hot', Unknown: 1 },
  ];

  it('gives what the schema gives for the common inputs', () => {
    assert.equal(agreesWithSchema(secretsSchemas.GetSecretValue, parseCommonGetSecretValue, wellFormed), wellFormed.length);
  });

  it('declines every input the schema refuses, and members it does not know', () => {
    assert.equal(agreesWithSchema(secretsSchemas.GetSecretValue, parseCommonGetSecretValue, malformed), 0);
  });
});
