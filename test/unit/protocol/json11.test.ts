import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { describe, it } from 'node:test';
import { Sensitive } from '../../../src/core/index.js';
import { encodeJsonBody } from '../../../src/protocol/index.js';

/** The wire form written independently of json11.ts: blobs as base64, Dates as epoch seconds, Sensitive revealed. */
function reference(output: unknown): string {
  const wire = (value: unknown): unknown => {
    if (value instanceof Sensitive) return wire(value.reveal());
    if (value instanceof Uint8Array) return Buffer.from(value.buffer, value.byteOffset, value.byteLength).toString('base64');
    if (value instanceof Date) return value.getTime() / 1000;
    if (Array.isArray(value)) return value.map(wire);
    if (value !== null && typeof value === 'object') {
      return Object.fromEntries(Object.entries(value).filter(([, member]) => member !== undefined).map(([name, member]) => [name, wire(member)]));
    }
    return value;
  };
  return JSON.stringify(wire(output) ?? {});
}

describe('encodeJsonBody', () => {
  const bytes = randomBytes(1024);
  const outputs: Array<[string, unknown]> = [
    ['Decrypt: a Sensitive blob between strings', { KeyId: 'arn:aws:kms:us-east-1:000000000000:key/1', Plaintext: new Sensitive(bytes), EncryptionAlgorithm: 'SYMMETRIC_DEFAULT' }],
    ['a Buffer first, an undefined member, a Date, a nested blob', { CiphertextBlob: bytes, Skipped: undefined, CreationDate: new Date(1_700_000_000_123), Nested: { Blob: bytes.subarray(3, 40), List: [1, 'x', null] } }],
    ['a Uint8Array view that is not a Buffer', { Mac: new Uint8Array(bytes.buffer, bytes.byteOffset + 5, 32), Valid: true }],
    ['an empty blob and member names JSON must escape', { '': Buffer.alloc(0), 'quote"and\\slash': 'value "quoted"\n', 'é€\u2028': new Sensitive(Buffer.from('snow ☃')) }],
    ['integer-like member names (ordered first by both)', { b: bytes.subarray(0, 3), 10: 'ten', 2: 'two', a: 'a' }],
    ['only undefined members besides a blob', { Plaintext: new Sensitive(Buffer.from('x')), Gone: undefined }],
    ['no blob: GetSecretValue', { ARN: 'arn', SecretString: new Sensitive('{"user":"x","password":"p\\"q"}'), VersionStages: ['AWSCURRENT'], CreatedDate: new Date(0) }],
    ['nothing', undefined],
    ['an empty object', {}],
    ['a top-level blob', bytes.subarray(0, 7)],
    ['an array at the top', [bytes.subarray(0, 2), 'x']],
    ['a member name longer than the names kept (257 characters, with a quote)', { ['"'.repeat(1) + 'n'.repeat(256)]: 'long', Plaintext: bytes.subarray(0, 4) }],
  ];
  for (const [name, output] of outputs) {
    it(`writes the same text as JSON.stringify of the wire form: ${name}`, () => {
      const text = encodeJsonBody(output);
      assert.equal(text, reference(output));
      assert.deepEqual(JSON.parse(text), JSON.parse(reference(output)));
    });
  }

  it('writes each member name as itself however often names repeat, more of them than it keeps (256)', () => {
    for (let round = 0; round < 3; round++) {
      for (let index = 0; index < 300; index++) {
        const output = { [`Name${index}`]: `value ${index}`, Blob: bytes.subarray(0, index % 5) };
        assert.equal(encodeJsonBody(output), reference(output));
      }
    }
  });

  it('reveals Sensitive members (a blob as base64, a string as itself) where their toJSON would redact them', () => {
    const text = encodeJsonBody({ Plaintext: new Sensitive(Buffer.from('secret bytes')), Name: new Sensitive('shown') });
    assert.equal(text, `{"Plaintext":"${Buffer.from('secret bytes').toString('base64')}","Name":"shown"}`);
  });
});
