import fc from 'fast-check';
import type { FuzzOperation } from './catalog.js';
import { inputArbitrary, type KnownValues } from './schema-arbitrary.js';

/** What is done to a call's body before it is signed (so the signature holds and the body reaches the decoder). */
export type BodyMutation =
  | { kind: 'none' }
  | { kind: 'invalid-utf8'; at: number[]; bytes: number[] }
  | { kind: 'truncate'; at: number }
  | { kind: 'append'; text: string }
  | { kind: 'replace'; bytes: Uint8Array }
  | { kind: 'empty' }
  | { kind: 'duplicate-member' }
  | { kind: 'prototype-members' }
  | { kind: 'byte-order-mark' };

/** A signature that must be refused (or, replayed unchanged, answered again like the first time). */
export type SignatureMutation =
  | { kind: 'flip-signature'; at: number }
  | { kind: 'other-body' }
  | { kind: 'expired' }
  | { kind: 'future' }
  | { kind: 'unknown-key' }
  | { kind: 'wrong-secret' }
  | { kind: 'other-service'; service: string }
  | { kind: 'odd-region'; region: string }
  | { kind: 'garbage-authorization'; text: string }
  | { kind: 'truncated-authorization'; at: number }
  | { kind: 'no-date' }
  | { kind: 'bad-date'; text: string }
  | { kind: 'changed-signed-header' }
  | { kind: 'security-token'; text: string }
  | { kind: 'replay' }
  | { kind: 'replay-other-body' };

/** A request that only a raw socket can send: broken framing, injected or duplicated headers, flipped bytes. */
export type RawMutation =
  | { kind: 'header-injection'; separator: string; line: string }
  | { kind: 'control-in-header'; char: string }
  | { kind: 'duplicate-header'; name: string; differ: boolean }
  | { kind: 'huge-header'; bytes: number }
  | { kind: 'many-headers'; count: number }
  | { kind: 'high-bytes-in-header'; bytes: number[] }
  | { kind: 'bad-request-line'; line: string }
  | { kind: 'bad-content-length'; value: string }
  | { kind: 'chunked'; valid: boolean; sizeLine: string }
  | { kind: 'flip-bytes'; at: number[]; bytes: number[] }
  | { kind: 'pipelined'; second: string }
  | { kind: 'http10' }
  | { kind: 'early-close'; at: number };

export type FuzzCase =
  | { kind: 'call'; operation: FuzzOperation; input: unknown; mutation: BodyMutation; probe?: 'allowed-pattern' }
  | { kind: 'signature'; operation: FuzzOperation; input: unknown; mutation: SignatureMutation }
  | { kind: 'raw'; operation: FuzzOperation; input: unknown; mutation: RawMutation };

const fraction = fc.double({ min: 0, max: 1, maxExcluded: true, noNaN: true });
const printable = (maxLength: number) => fc.string({ unit: 'grapheme-ascii', maxLength });

const bodyMutation: fc.Arbitrary<BodyMutation> = fc.oneof(
  { weight: 30, arbitrary: fc.constant({ kind: 'none' as const }) },
  { weight: 2, arbitrary: fc.record({ kind: fc.constant('invalid-utf8' as const), at: fc.array(fraction, { minLength: 1, maxLength: 4 }), bytes: fc.array(fc.constantFrom(0xff, 0xfe, 0xc0, 0x80, 0xed, 0xf8, 0xc3), { minLength: 1, maxLength: 4 }) }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('truncate' as const), at: fraction }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('append' as const), text: fc.constantFrom('}', ']', ',', '{"a":1}', 'garbage', '\u0000', ' '.repeat(1000)) }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('replace' as const), bytes: fc.uint8Array({ maxLength: 256 }) }) },
  { weight: 1, arbitrary: fc.constant({ kind: 'empty' as const }) },
  { weight: 1, arbitrary: fc.constant({ kind: 'duplicate-member' as const }) },
  { weight: 1, arbitrary: fc.constant({ kind: 'prototype-members' as const }) },
  { weight: 1, arbitrary: fc.constant({ kind: 'byte-order-mark' as const }) },
);

const signatureMutation: fc.Arbitrary<SignatureMutation> = fc.oneof(
  fc.record({ kind: fc.constant('flip-signature' as const), at: fraction }),
  fc.constant({ kind: 'other-body' as const }),
  fc.constant({ kind: 'expired' as const }),
  fc.constant({ kind: 'future' as const }),
  fc.constant({ kind: 'unknown-key' as const }),
  fc.constant({ kind: 'wrong-secret' as const }),
  fc.record({ kind: fc.constant('other-service' as const), service: fc.constantFrom('kms', 'secretsmanager', 'iam', 'sts', 'lambda', 's3', 'cloudtrail', '') }),
  fc.record({ kind: fc.constant('odd-region' as const), region: fc.oneof(fc.constantFrom('', ' ', 'x'.repeat(300), '..', 'us-east-1 ', 'aws-global'), fc.stringMatching(/^[a-z0-9-]{1,40}$/)) }),
  fc.record({ kind: fc.constant('garbage-authorization' as const), text: fc.oneof(printable(200), fc.constantFrom('AWS4-HMAC-SHA256', 'AWS4-HMAC-SHA256 Credential=', 'AWS4-HMAC-SHA256 Credential=a/b/c/d/e, SignedHeaders=, Signature=', 'Bearer x', 'AWS4-HMAC-SHA1 Credential=x')) }),
  fc.record({ kind: fc.constant('truncated-authorization' as const), at: fraction }),
  fc.constant({ kind: 'no-date' as const }),
  fc.record({ kind: fc.constant('bad-date' as const), text: fc.oneof(printable(20), fc.constantFrom('20991231T000000Z', '19700101T000000Z', '20250230T250000Z', '0')) }),
  fc.constant({ kind: 'changed-signed-header' as const }),
  fc.record({ kind: fc.constant('security-token' as const), text: printable(600) }),
  fc.constant({ kind: 'replay' as const }),
  fc.constant({ kind: 'replay-other-body' as const }),
);

const rawMutation: fc.Arbitrary<RawMutation> = fc.oneof(
  fc.record({ kind: fc.constant('header-injection' as const), separator: fc.constantFrom('\r\n', '\n', '\r', '\r\n\r\n'), line: fc.constantFrom('X-Amz-Target: secretsmanager.ListSecrets', 'Content-Length: 0', 'Transfer-Encoding: chunked', 'Authorization: x', 'Host: evil', 'X-Injected: 1') }),
  fc.record({ kind: fc.constant('control-in-header' as const), char: fc.constantFrom('\u0000', '\u0001', '\u0007', '\u001b', '\u007f', '\t') }),
  fc.record({ kind: fc.constant('duplicate-header' as const), name: fc.constantFrom('content-length', 'host', 'authorization', 'x-amz-target', 'content-type', 'x-amz-date', 'transfer-encoding'), differ: fc.boolean() }),
  fc.record({ kind: fc.constant('huge-header' as const), bytes: fc.constantFrom(8 * 1024, 16 * 1024, 17 * 1024, 64 * 1024, 1024 * 1024) }),
  fc.record({ kind: fc.constant('many-headers' as const), count: fc.constantFrom(100, 1000, 5000) }),
  fc.record({ kind: fc.constant('high-bytes-in-header' as const), bytes: fc.array(fc.integer({ min: 0x80, max: 0xff }), { minLength: 1, maxLength: 8 }) }),
  fc.record({ kind: fc.constant('bad-request-line' as const), line: fc.oneof(printable(60), fc.constantFrom('POST / HTTP/9.9', 'POST /', 'POST  / HTTP/1.1', 'FOO / HTTP/1.1', 'POST http://evil.example/ HTTP/1.1', 'POST * HTTP/1.1', `POST /${'a'.repeat(20_000)} HTTP/1.1`, 'POST /%zz HTTP/1.1', 'POST /\u00e9 HTTP/1.1', 'GET /health?x HTTP/1.1', 'PRI * HTTP/2.0', '\u0016\u0003\u0001')) }),
  fc.record({ kind: fc.constant('bad-content-length' as const), value: fc.constantFrom('-1', 'abc', '1e3', '+5', '0x10', '99999999999999999999', '', ' 1', '1.5') }),
  fc.record({ kind: fc.constant('chunked' as const), valid: fc.boolean(), sizeLine: fc.constantFrom('zz', '-1', 'ffffffffffffffff', '5;ext=1', '0x5', '') }),
  fc.record({ kind: fc.constant('flip-bytes' as const), at: fc.array(fraction, { minLength: 1, maxLength: 6 }), bytes: fc.array(fc.integer({ min: 0, max: 255 }), { minLength: 1, maxLength: 6 }) }),
  fc.record({ kind: fc.constant('pipelined' as const), second: fc.constantFrom('GET /health HTTP/1.1\r\nHost: x\r\n\r\n', 'garbage\r\n\r\n', 'POST / HTTP/1.1\r\nContent-Length: 5\r\n\r\n{"a":') }),
  fc.constant({ kind: 'http10' as const }),
  fc.record({ kind: fc.constant('early-close' as const), at: fraction }),
);

/**
 * Caller regular expressions that backtrack catastrophically on a long run of `a` that does not end as they
 * want (ReDoS): nested quantifiers, overlapping alternatives, and what V8's linear-time engine does not take
 * (bounded repeats above 16, backreferences, lookaheads).
 */
export const PATHOLOGICAL_PATTERNS = [
  '^(a+)+$',
  '^(a|aa)+$',
  '^(a*)*b$',
  '^(\\w+\\s?)*$',
  '^([a-z]+)*[0-9]$',
  '^(a{1,20})+$',
  '^(.*a){20}$',
  '^(a|a?)+\\1$',
  '^(?=a)(a+)+$',
] as const;

/** PutParameter with a pathological AllowedPattern and a value of up to 8 KB (Advanced) that makes it backtrack. */
function patternProbe(putParameter: FuzzOperation) {
  const input = fc.record({
    Name: fc.integer({ min: 0, max: 99 }).map((index) => `/fuzz/pattern-${index}`),
    Value: fc.tuple(fc.integer({ min: 16, max: 8191 }), fc.constantFrom('!', 'b', ' !', '')).map(([length, tail]) => `${'a'.repeat(length)}${tail}`),
    Type: fc.constant('String'),
    Tier: fc.constant('Advanced'),
    Overwrite: fc.boolean(),
    AllowedPattern: fc.constantFrom(...PATHOLOGICAL_PATTERNS),
  });
  return input.map((value) => ({ kind: 'call' as const, operation: putParameter, input: value, mutation: { kind: 'none' as const }, probe: 'allowed-pattern' as const }));
}

/**
 * Every case: a call built from an operation's schema, its body perhaps mutated; a bad or replayed signature; a raw
 * request; and, one in 200, a PutParameter with a pathological AllowedPattern.
 */
export function caseArbitrary(operations: readonly FuzzOperation[], known: KnownValues): fc.Arbitrary<FuzzCase> {
  const calls = operations.map((operation) => fc.tuple(fc.constant(operation), inputArbitrary(operation.schema, known)));
  const call = fc.oneof(...calls);
  const putParameter = operations.find((operation) => operation.service === 'ssm' && operation.name === 'PutParameter');
  return fc.oneof(
    { weight: 140, arbitrary: fc.tuple(call, bodyMutation).map(([[operation, input], mutation]) => ({ kind: 'call' as const, operation, input, mutation })) },
    { weight: 30, arbitrary: fc.tuple(call, signatureMutation).map(([[operation, input], mutation]) => ({ kind: 'signature' as const, operation, input, mutation })) },
    { weight: 30, arbitrary: fc.tuple(call, rawMutation).map(([[operation, input], mutation]) => ({ kind: 'raw' as const, operation, input, mutation })) },
    ...(putParameter ? [{ weight: 1, arbitrary: patternProbe(putParameter) }] : []),
  );
}
