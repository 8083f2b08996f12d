import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { NodeSha256 } from '../../helpers/signed-fetch.js';
import { SignatureV4 } from '@smithy/signature-v4';
import { HttpRequest, buildQueryString } from '@smithy/core/protocols';
import {
  SigningKeyCache,
  verifySigV4,
  type SecretKeyLookup,
  type SignedRequest,
  type SigV4Identity,
} from '../../../src/auth/sigv4/index.js';
import { deriveSigningKey } from '../../../src/auth/sigv4/signing-key.js';
import { trimAndCollapseSpaces } from '../../../src/auth/sigv4/canonical-request.js';

const ACCESS_KEY_ID = 'AKIDEXAMPLE';
const SECRET_ACCESS_KEY = 'wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY';
const SESSION_TOKEN = 'FwoGZXIvYXdzEXAMPLE+session/token==';
const SIGNED_AT = new Date('2024-05-01T10:00:00Z');
const MINUTE = 60_000;

const SIGNATURE_MISMATCH =
  'The request signature we calculated does not match the signature you provided. ' +
  'Check your AWS Secret Access Key and signing method. Consult the service documentation for details.';

const lookupExample: SecretKeyLookup = (accessKeyId) => (accessKeyId === ACCESS_KEY_ID ? SECRET_ACCESS_KEY : undefined);

function verify(req: SignedRequest, now: Date = SIGNED_AT, lookup: SecretKeyLookup = lookupExample): SigV4Identity {
  return verifySigV4(req, lookup, now, new SigningKeyCache());
}

function assertAwsError(action: () => unknown, code: string, messageIncludes?: string): void {
  assert.throws(action, (error: unknown) => {
    assert.equal((error as { code?: unknown }).code, code);
    if (messageIncludes !== undefined) assert.ok((error as Error).message.includes(messageIncludes), (error as Error).message);
    return true;
  });
}

// --- signing with the real AWS SDK signer ----------------------------------------------------------------


type SdkRequestShape = {
  method?: string;
  path?: string;
  query?: Record<string, string | string[]>;
  headers?: Record<string, string>;
  body?: string;
};

function kmsRequest(shape: SdkRequestShape = {}): HttpRequest {
  return new HttpRequest({
    method: shape.method ?? 'POST',
    protocol: 'http:',
    hostname: '127.0.0.1',
    port: 4566,
    path: shape.path ?? '/',
    query: shape.query ?? {},
    headers: {
      'content-type': 'application/x-amz-json-1.1',
      'x-amz-target': 'TrentService.ListKeys',
      host: '127.0.0.1:4566',
      ...shape.headers,
    },
    ...(shape.body === undefined ? {} : { body: shape.body }),
  });
}

function sdkSigner(options: { sessionToken?: string; applyChecksum?: boolean; secret?: string } = {}): SignatureV4 {
  return new SignatureV4({
    credentials: {
      accessKeyId: ACCESS_KEY_ID,
      secretAccessKey: options.secret ?? SECRET_ACCESS_KEY,
      ...(options.sessionToken === undefined ? {} : { sessionToken: options.sessionToken }),
    },
    region: 'us-east-1',
    service: 'kms',
    sha256: NodeSha256,
    ...(options.applyChecksum === undefined ? {} : { applyChecksum: options.applyChecksum }),
  });
}

/** What the server sees: node lower-cases header names; the SDK's http handler builds the query string. */
function asReceived(signed: HttpRequest): SignedRequest {
  const headers: Record<string, string> = {};
  for (const [name, value] of Object.entries(signed.headers)) headers[name.toLowerCase()] = value;
  const body = signed.body === undefined ? Buffer.alloc(0) : Buffer.from(String(signed.body), 'utf8');
  return { method: signed.method, path: signed.path, query: buildQueryString(signed.query ?? {}), headers, body };
}

async function signWithSdk(shape: SdkRequestShape = {}, signer: SignatureV4 = sdkSigner()): Promise<SignedRequest> {
  const signed = (await signer.sign(kmsRequest({ body: '{}', ...shape }), { signingDate: SIGNED_AT })) as HttpRequest;
  return asReceived(signed);
}

async function presignWithSdk(shape: SdkRequestShape = {}, signer: SignatureV4 = sdkSigner()): Promise<SignedRequest> {
  const presigned = await signer.presign(kmsRequest({ method: 'GET', ...shape }), { signingDate: SIGNED_AT, expiresIn: 300 });
  return asReceived(presigned as HttpRequest);
}

describe('verifySigV4 with requests signed by the AWS SDK (@smithy/signature-v4)', () => {
  test('accepts a signed KMS request and returns the identity', async () => {
    const identity = verify(await signWithSdk(), new Date(SIGNED_AT.getTime() + 2 * MINUTE));
    assert.deepEqual(identity, { accessKeyId: ACCESS_KEY_ID, region: 'us-east-1', service: 'kms', signedAt: SIGNED_AT });
  });

  test('accepts a request signed without an x-amz-content-sha256 header', async () => {
    const req = await signWithSdk({ body: '{"Limit":10}' }, sdkSigner({ applyChecksum: false }));
    assert.equal(req.headers['x-amz-content-sha256'], undefined);
    assert.equal(verify(req).accessKeyId, ACCESS_KEY_ID);
  });

  test('accepts a query string with repeated, unsorted and reserved-character parameters', async () => {
    const req = await signWithSdk({
      query: { zeta: 'last', b: 'two words', a: ['2', '10', '1'], 'odd key*': "it's (ok)!/~", empty: '' },
    });
    assert.ok(req.query.includes('two%20words'), req.query);
    assert.equal(verify(req).service, 'kms');
  });

  test('accepts an already-encoded path, which the SDK encodes a second time when signing', async () => {
    const req = await signWithSdk({ path: '/keys/alias%2Fmy%20key/./tags/' });
    assert.equal(verify(req).region, 'us-east-1');
  });

  test('returns the session token of temporary credentials', async () => {
    const req = await signWithSdk({ query: { Action: 'ListKeys' } }, sdkSigner({ sessionToken: SESSION_TOKEN }));
    assert.equal(req.headers['x-amz-security-token'], SESSION_TOKEN);
    assert.deepEqual(verify(req), {
      accessKeyId: ACCESS_KEY_ID,
      region: 'us-east-1',
      service: 'kms',
      signedAt: SIGNED_AT,
      sessionToken: SESSION_TOKEN,
    });
  });

  test('accepts a presigned URL, with its session token', async () => {
    const req = await presignWithSdk({}, sdkSigner({ sessionToken: SESSION_TOKEN }));
    assert.equal(req.headers.authorization, undefined);
    assert.ok(req.query.includes('X-Amz-Signature='), req.query);
    const identity = verify(req, new Date(SIGNED_AT.getTime() + 4 * MINUTE));
    assert.equal(identity.sessionToken, SESSION_TOKEN);
    assert.equal(identity.accessKeyId, ACCESS_KEY_ID);
  });

  test('accepts a presigned URL signed with UNSIGNED-PAYLOAD', async () => {
    const req = await presignWithSdk({ headers: { 'x-amz-content-sha256': 'UNSIGNED-PAYLOAD' } });
    assert.ok(req.query.toLowerCase().includes('x-amz-content-sha256=unsigned-payload'), req.query);
    assert.equal(verify({ ...req, body: Buffer.from('anything') }).service, 'kms');
  });

  test('rejects a presigned URL after X-Amz-Expires', async () => {
    const req = await presignWithSdk();
    assertAwsError(() => verify(req, new Date(SIGNED_AT.getTime() + 6 * MINUTE)), 'InvalidSignatureException', 'Signature expired');
  });

  test('rejects a presigned URL whose query was altered', async () => {
    const req = await presignWithSdk();
    const tampered = { ...req, query: req.query.replace('TrentService.ListKeys', 'TrentService.Decrypt') };
    assert.notEqual(tampered.query, req.query);
    assertAwsError(() => verify(tampered), 'InvalidSignatureException', SIGNATURE_MISMATCH);
  });
});

// --- AWS's published test vectors ----------------------------------------------------------------------

/**
 * From the aws-sig-v4-test-suite (AKIDEXAMPLE, us-east-1, service 'service', 2015-08-30T12:36:00Z).
 * The expected signatures are the published ones, as repeated by many independent SigV4 implementations.
 */
type SuiteVector = {
  name: string;
  method?: string;
  path?: string;
  query?: string;
  headers?: Record<string, string | string[]>;
  body?: string;
  signedHeaders?: string;
  signature: string;
};

const SUITE_DATE = new Date('2015-08-30T12:36:00Z');

const SUITE_VECTORS: readonly SuiteVector[] = [
  { name: 'get-vanilla', signature: '5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf31' },
  {
    name: 'get-vanilla-query-order-key-case',
    query: 'Param2=value2&Param1=value1',
    signature: 'b97d918cfa904a5beff61c982a1b6f458b799221646efd99d3219ec94cdf2500',
  },
  {
    name: 'get-vanilla-query-order-value',
    query: 'Param1=value2&Param1=value1',
    signature: '5772eed61e12b33fae39ee5e7012498b51d56abc0abb7c60486157bd471c4694',
  },
  {
    name: 'get-vanilla-query-order-encoded',
    query: 'Param-3=Value3&Param=Value2&%E1%88%B4=Value1',
    signature: '371d3713e185cc334048618a97f809c9ffe339c62934c032af5a0e595648fcac',
  },
  {
    name: 'get-vanilla-utf8-query',
    query: '\u1234=bar',
    signature: '2cdec8eed098649ff3a119c94853b13c643bcf08f8b0a1d91e12c9027818dd04',
  },
  {
    name: 'get-unreserved',
    path: '/-._~0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz',
    signature: '07ef7494c76fa4850883e2b006601f940f8a34d404d0cfa977f52a65bbf5f24f',
  },
  {
    name: 'get-slashes (normalize-path)',
    path: '//example//',
    signature: '9a624bd73a37c9a373b5312afbebe7a714a789de108f0bdfe846570885f57e84',
  },
  {
    name: 'get-header-value-trim',
    headers: { 'my-header1': ' value1', 'my-header2': '"a   b   c"' },
    signedHeaders: 'host;my-header1;my-header2;x-amz-date',
    signature: 'acc3ed3afb60bb290fc8d2dd0098b9911fcaa05412b367055dee359757a9c736',
  },
  {
    name: 'get-header-key-duplicate',
    headers: { 'my-header1': ['value2', 'value2', 'value1'] },
    signedHeaders: 'host;my-header1;x-amz-date',
    signature: 'c9d5ea9f3f72853aea855b47ea873832890dbdd183b4468f858259531a5138ea',
  },
  {
    name: 'get-header-value-order',
    headers: { 'my-header1': ['value4', 'value1', 'value3', 'value2'] },
    signedHeaders: 'host;my-header1;x-amz-date',
    signature: '08c7e5a9acfcfeb3ab6b2185e75ce8b1deb5e634ec47601a50643f830c755c01',
  },
  {
    name: 'post-x-www-form-urlencoded',
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: 'Param1=value1',
    signedHeaders: 'content-type;host;x-amz-date',
    signature: 'ff11897932ad3f4e8b18135d722051e5ac45fc38421b1da7b9d196a0fe09473a',
  },
];

function suiteRequest(vector: SuiteVector): SignedRequest {
  const signedHeaders = vector.signedHeaders ?? 'host;x-amz-date';
  return {
    method: vector.method ?? 'GET',
    path: vector.path ?? '/',
    query: vector.query ?? '',
    headers: {
      host: 'example.amazonaws.com',
      'x-amz-date': '20150830T123600Z',
      ...vector.headers,
      authorization:
        `AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/service/aws4_request, ` +
        `SignedHeaders=${signedHeaders}, Signature=${vector.signature}`,
    },
    body: Buffer.from(vector.body ?? '', 'utf8'),
  };
}

describe('verifySigV4 against the aws-sig-v4-test-suite vectors', () => {
  for (const vector of SUITE_VECTORS) {
    test(vector.name, () => {
      const identity = verify(suiteRequest(vector), SUITE_DATE);
      assert.deepEqual(identity, { accessKeyId: ACCESS_KEY_ID, region: 'us-east-1', service: 'service', signedAt: SUITE_DATE });
    });
  }

  test('a vector with one changed signature digit is rejected', () => {
    const vector = SUITE_VECTORS[0];
    assert.ok(vector !== undefined);
    const req = suiteRequest({ ...vector, signature: `${vector.signature.slice(0, -1)}0` });
    assertAwsError(() => verify(req, SUITE_DATE), 'InvalidSignatureException', SIGNATURE_MISMATCH);
  });

  test('get-vanilla from the 2011 suite: an HTTP-date Date header in place of X-Amz-Date', () => {
    const req: SignedRequest = {
      method: 'GET',
      path: '/',
      query: '',
      headers: {
        host: 'host.foo.com',
        date: 'Mon, 09 Sep 2011 23:36:00 GMT',
        authorization:
          'AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20110909/us-east-1/host/aws4_request, SignedHeaders=date;host, ' +
          'Signature=b27ccfbfa7df52a200ff74193ca6e32d4b48b8856fab7ebf1c595d0670a7e470',
      },
      body: Buffer.alloc(0),
    };
    const signedAt = new Date('2011-09-09T23:36:00Z');
    assert.deepEqual(verify(req, signedAt), { accessKeyId: ACCESS_KEY_ID, region: 'us-east-1', service: 'host', signedAt });
  });
});

// --- rejections ------------------------------------------------------------------------------------------

describe('verifySigV4 rejections', () => {
  test('tampered body with an x-amz-content-sha256 header → InvalidSignatureException', async () => {
    const req = await signWithSdk();
    assertAwsError(() => verify({ ...req, body: Buffer.from('{"Limit":1}') }), 'InvalidSignatureException', 'x-amz-content-sha256');
  });

  test('tampered body without an x-amz-content-sha256 header → InvalidSignatureException', async () => {
    const req = await signWithSdk({}, sdkSigner({ applyChecksum: false }));
    assertAwsError(() => verify({ ...req, body: Buffer.from('{"Limit":1}') }), 'InvalidSignatureException', SIGNATURE_MISMATCH);
  });

  test('tampered signed header → InvalidSignatureException', async () => {
    const req = await signWithSdk();
    const headers = { ...req.headers, 'x-amz-target': 'TrentService.ScheduleKeyDeletion' };
    assertAwsError(() => verify({ ...req, headers }), 'InvalidSignatureException', SIGNATURE_MISMATCH);
  });

  test('wrong secret → InvalidSignatureException', async () => {
    const req = await signWithSdk({}, sdkSigner({ secret: 'not-the-right-secret' }));
    assertAwsError(() => verify(req), 'InvalidSignatureException', SIGNATURE_MISMATCH);
  });

  test('unknown access key → UnrecognizedClientException', async () => {
    const req = await signWithSdk();
    assertAwsError(
      () => verify(req, SIGNED_AT, () => undefined),
      'UnrecognizedClientException',
      'The security token included in the request is invalid.',
    );
  });

  test('signed 6 minutes ago → InvalidSignatureException "Signature expired"', async () => {
    const req = await signWithSdk();
    assertAwsError(
      () => verify(req, new Date(SIGNED_AT.getTime() + 6 * MINUTE)),
      'InvalidSignatureException',
      'Signature expired: 20240501T100000Z is now earlier than 20240501T100100Z (20240501T100600Z - 5 min.)',
    );
  });

  test('signed 6 minutes in the future → InvalidSignatureException "not yet current"', async () => {
    const req = await signWithSdk();
    assertAwsError(
      () => verify(req, new Date(SIGNED_AT.getTime() - 6 * MINUTE)),
      'InvalidSignatureException',
      'Signature not yet current: 20240501T100000Z is still later than 20240501T095900Z (20240501T095400Z + 5 min.)',
    );
  });

  test('maxSkewMs option narrows the window', async () => {
    const req = await signWithSdk();
    const now = new Date(SIGNED_AT.getTime() + 2 * MINUTE);
    assert.throws(() => verifySigV4(req, lookupExample, now, new SigningKeyCache(), { maxSkewMs: MINUTE }), /Signature expired/);
  });

  test('no Authorization header and no query auth → MissingAuthenticationTokenException', async () => {
    const req = await signWithSdk();
    const { authorization: _dropped, ...headers } = req.headers;
    assertAwsError(() => verify({ ...req, headers }), 'MissingAuthenticationTokenException', 'Missing Authentication Token');
  });

  test('an empty Authorization header counts as missing → MissingAuthenticationTokenException', async () => {
    const req = await signWithSdk();
    assertAwsError(() => verify({ ...req, headers: { ...req.headers, authorization: ' ' } }), 'MissingAuthenticationTokenException');
  });

  test('credential scope date differs from X-Amz-Date → InvalidSignatureException', async () => {
    const req = await signWithSdk();
    const headers = { ...req.headers, 'x-amz-date': '20240502T100000Z' };
    assertAwsError(() => verify({ ...req, headers }, new Date('2024-05-02T10:00:00Z')), 'InvalidSignatureException', 'Credential scope');
  });

  test('both an Authorization header and query auth → IncompleteSignatureException', async () => {
    const presigned = await presignWithSdk();
    const signed = await signWithSdk();
    const req = { ...presigned, headers: { ...presigned.headers, authorization: String(signed.headers.authorization) } };
    assertAwsError(() => verify(req), 'IncompleteSignatureException', 'Only one auth mechanism');
  });

  test('presigned URL missing X-Amz-Credential → IncompleteSignatureException', async () => {
    const req = await presignWithSdk();
    const query = req.query.split('&').filter((pair) => !pair.startsWith('X-Amz-Credential=')).join('&');
    assertAwsError(() => verify({ ...req, query }), 'IncompleteSignatureException', "'X-Amz-Credential'");
  });
});

describe('verifySigV4 over requests that repeat a credential and a SignedHeaders list (both remembered per list)', () => {
  test('a remembered list keeps header names only: the next request with a changed signed value is refused', async () => {
    const cache = new SigningKeyCache();
    const req = await signWithSdk();
    assert.equal(verifySigV4(req, lookupExample, SIGNED_AT, cache).accessKeyId, ACCESS_KEY_ID);
    assert.equal(verifySigV4(req, lookupExample, SIGNED_AT, cache).accessKeyId, ACCESS_KEY_ID);
    const headers = { ...req.headers, 'x-amz-target': 'TrentService.ScheduleKeyDeletion' };
    assertAwsError(() => verifySigV4({ ...req, headers }, lookupExample, SIGNED_AT, cache), 'InvalidSignatureException', SIGNATURE_MISMATCH);
  });

  test('a remembered credential scope is still checked against the key it names and the secret looked up', async () => {
    const cache = new SigningKeyCache();
    const req = await signWithSdk();
    verifySigV4(req, lookupExample, SIGNED_AT, cache);
    assertAwsError(() => verifySigV4(req, () => 'another-secret', SIGNED_AT, cache), 'InvalidSignatureException', SIGNATURE_MISMATCH);
    assertAwsError(() => verifySigV4(req, () => undefined, SIGNED_AT, cache), 'UnrecognizedClientException');
  });

  test('a malformed credential is refused every time it is sent', () => {
    const authorization =
      'AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20240501/us-east-1/aws4_request, SignedHeaders=host;x-amz-date, Signature=' + 'ab'.repeat(32);
    const req: SignedRequest = { method: 'POST', path: '/', query: '', headers: { host: 'h', 'x-amz-date': '20240501T100000Z', authorization }, body: Buffer.alloc(0) };
    for (let attempt = 0; attempt < 2; attempt++) assertAwsError(() => verify(req), 'IncompleteSignatureException', 'Credential must have exactly 5 slash-delimited elements');
  });

  test('a SignedHeaders list too long to be remembered (over 512 characters) is verified the same way', async () => {
    const extra: Record<string, string> = {};
    for (let index = 0; index < 40; index++) extra[`x-amz-meta-signed-header-${String(index).padStart(2, '0')}`] = `value ${index}`;
    const req = await signWithSdk({ headers: extra });
    const signedHeaders = /SignedHeaders=([^,]+)/.exec(String(req.headers.authorization))![1]!;
    assert.ok(signedHeaders.length > 512, `${signedHeaders.length} characters`);
    assert.equal(verify(req).accessKeyId, ACCESS_KEY_ID);
    const headers = { ...req.headers, 'x-amz-meta-signed-header-39': 'changed' };
    assertAwsError(() => verify({ ...req, headers }), 'InvalidSignatureException', SIGNATURE_MISMATCH);
  });
});

describe('verifySigV4 reads the Authorization header\'s parameters however they are spaced', () => {
  /** The SDK's header, its parameters re-joined by `joiner` (`, ` as the SDK sends them). */
  async function respaced(joiner: (name: string, index: number) => string): Promise<SignedRequest> {
    const req = await signWithSdk();
    const header = String(req.headers.authorization);
    const space = header.indexOf(' ');
    const params = header.slice(space + 1).split(', ');
    const authorization = `${header.slice(0, space)} ${params.map((param, index) => `${index === 0 ? '' : ','}${joiner(param, index)}`).join('')}`;
    return { ...req, headers: { ...req.headers, authorization } };
  }

  const spacings: ReadonlyArray<[string, (param: string, index: number) => string]> = [
    ['no space after the commas', (param) => param],
    ['two spaces after the commas', (param, index) => (index === 0 ? param : `  ${param}`)],
    ['a tab after the commas', (param, index) => (index === 0 ? param : `\t${param}`)],
    ['spaces around each name', (param) => param.replace('=', ' = ')],
    ['a no-break space before a name (String.prototype.trim removes it)', (param, index) => (index === 0 ? param : ` \u00a0${param}`)],
  ];
  for (const [name, joiner] of spacings) {
    test(name, async () => {
      assert.equal(verify(await respaced(joiner)).accessKeyId, ACCESS_KEY_ID);
    });
  }

  test('a name with a letter more or less is not a parameter: the real one is still required', async () => {
    for (const rename of [(param: string) => param.replace('Signature=', 'XSignature='), (param: string) => param.replace('Signature=', 'Signatur=')]) {
      const req = await respaced((param, index) => (index === 2 ? rename(param) : ` ${param}`.trimStart()));
      assertAwsError(() => verify(req), 'IncompleteSignatureException', "requires 'Signature' parameter");
    }
  });

  test('the first of a repeated parameter counts', async () => {
    const req = await signWithSdk();
    const authorization = String(req.headers.authorization).replace(/Signature=(\w+)/, 'Signature=$1, Signature=' + '0'.repeat(64));
    assert.equal(verify({ ...req, headers: { ...req.headers, authorization } }).accessKeyId, ACCESS_KEY_ID);
  });
});

describe('a signed header\'s canonical value', () => {
  test('is trimmed and each inner run of spaces, tabs and line breaks made one space: every string of up to 5 of a, b and those', () => {
    const reference = (value: string) => value.replace(/^[ \t\n\r]+|[ \t\n\r]+$/g, '').replace(/[ \t\n\r]+/g, ' ');
    const alphabet = ['a', 'b', ' ', '\t', '\n', '\r'];
    let strings = [''];
    for (let length = 0; length <= 5; length++) {
      for (const value of strings) assert.equal(trimAndCollapseSpaces(value), reference(value), JSON.stringify(value));
      strings = strings.flatMap((value) => alphabet.map((char) => value + char));
    }
  });
});

describe('verifySigV4 over requests that repeat an X-Amz-Date (its time is remembered)', () => {
  test('each call gets its own signedAt, a bad date after a good one is refused, and another date is read anew', async () => {
    const req = await signWithSdk();
    const first = verify(req);
    const second = verify(req);
    assert.notEqual(first.signedAt, second.signedAt);
    first.signedAt.setUTCFullYear(1999);
    assert.deepEqual(verify(req).signedAt, SIGNED_AT);
    const badDate = { ...req, headers: { ...req.headers, 'x-amz-date': '20240431T100000Z' } };
    assertAwsError(() => verify(badDate), 'IncompleteSignatureException', "Date must be in ISO-8601 'basic format'");
    assertAwsError(() => verify(badDate), 'IncompleteSignatureException', "Date must be in ISO-8601 'basic format'");
    const later = { ...req, headers: { ...req.headers, 'x-amz-date': '20240501T100001Z' } };
    assertAwsError(() => verify(later), 'InvalidSignatureException', SIGNATURE_MISMATCH);
    assert.deepEqual(verify(req).signedAt, SIGNED_AT);
  });
});

describe('verifySigV4 malformed Authorization headers → IncompleteSignatureException', () => {
  const credential = 'Credential=AKIDEXAMPLE/20240501/us-east-1/kms/aws4_request';
  const signedHeaders = 'SignedHeaders=content-type;host;x-amz-date;x-amz-target';
  const secretLookingSignature = 'Signature=feedfacefeedfacefeedfacefeedfacefeedfacefeedfacefeedfacefeedface';

  const cases: ReadonlyArray<{ name: string; authorization: string; message: string; headers?: Record<string, string | undefined> }> = [
    {
      name: 'wrong algorithm',
      authorization: `AWS4-HMAC-SHA1 ${credential}, ${signedHeaders}, ${secretLookingSignature}`,
      message: "Unsupported AWS 'algorithm'",
    },
    {
      name: 'missing Signature',
      authorization: `AWS4-HMAC-SHA256 ${credential}, ${signedHeaders}`,
      message: "Authorization header requires 'Signature' parameter. Authorization=AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/",
    },
    {
      name: 'missing Credential',
      authorization: `AWS4-HMAC-SHA256 ${signedHeaders}, ${secretLookingSignature}`,
      message: "Authorization header requires 'Credential' parameter.",
    },
    {
      name: 'missing SignedHeaders',
      authorization: `AWS4-HMAC-SHA256 ${credential}, ${secretLookingSignature}`,
      message: "Authorization header requires 'SignedHeaders' parameter.",
    },
    {
      name: 'credential scope with 4 parts',
      authorization: `AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20240501/us-east-1/aws4_request, ${signedHeaders}, ${secretLookingSignature}`,
      message: 'Credential must have exactly 5 slash-delimited elements',
    },
    {
      name: 'credential scope not ending in aws4_request',
      authorization: `AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20240501/us-east-1/kms/aws5_request, ${signedHeaders}, ${secretLookingSignature}`,
      message: "valid terminator: 'aws4_request'",
    },
    {
      name: 'host not signed',
      authorization: `AWS4-HMAC-SHA256 ${credential}, SignedHeaders=content-type;x-amz-date, ${secretLookingSignature}`,
      message: "'Host'",
    },
    {
      name: 'no X-Amz-Date or Date header',
      authorization: `AWS4-HMAC-SHA256 ${credential}, ${signedHeaders}, ${secretLookingSignature}`,
      headers: { 'x-amz-date': undefined },
      message: "requires existence of either a 'X-Amz-Date' or a 'Date' header",
    },
    {
      name: 'X-Amz-Date not in basic format',
      authorization: `AWS4-HMAC-SHA256 ${credential}, ${signedHeaders}, ${secretLookingSignature}`,
      headers: { 'x-amz-date': '2024-05-01T10:00:00Z' },
      message: "Date must be in ISO-8601 'basic format'",
    },
    {
      name: 'X-Amz-Date with month 13',
      authorization: `AWS4-HMAC-SHA256 ${credential}, ${signedHeaders}, ${secretLookingSignature}`,
      headers: { 'x-amz-date': '20241301T100000Z' },
      message: "Date must be in ISO-8601 'basic format'",
    },
    {
      name: 'X-Amz-Date on 31 April',
      authorization: `AWS4-HMAC-SHA256 ${credential}, ${signedHeaders}, ${secretLookingSignature}`,
      headers: { 'x-amz-date': '20240431T100000Z' },
      message: "Date must be in ISO-8601 'basic format'",
    },
    {
      name: 'X-Amz-Date at hour 24',
      authorization: `AWS4-HMAC-SHA256 ${credential}, ${signedHeaders}, ${secretLookingSignature}`,
      headers: { 'x-amz-date': '20240501T240000Z' },
      message: "Date must be in ISO-8601 'basic format'",
    },
    {
      name: 'X-Amz-Date at minute 60',
      authorization: `AWS4-HMAC-SHA256 ${credential}, ${signedHeaders}, ${secretLookingSignature}`,
      headers: { 'x-amz-date': '20240501T106000Z' },
      message: "Date must be in ISO-8601 'basic format'",
    },
    {
      name: 'X-Amz-Date in year 0050 (read by Date.UTC as 1950)',
      authorization: `AWS4-HMAC-SHA256 ${credential}, ${signedHeaders}, ${secretLookingSignature}`,
      headers: { 'x-amz-date': '00500501T100000Z' },
      message: "Date must be in ISO-8601 'basic format'",
    },
    {
      name: 'X-Amz-Date on 29 February of a common year',
      authorization: `AWS4-HMAC-SHA256 ${credential}, ${signedHeaders}, ${secretLookingSignature}`,
      headers: { 'x-amz-date': '20230229T100000Z' },
      message: "Date must be in ISO-8601 'basic format'",
    },
  ];

  for (const { name, authorization, message, headers } of cases) {
    test(name, () => {
      const req: SignedRequest = {
        method: 'POST',
        path: '/',
        query: '',
        headers: { host: '127.0.0.1:4566', 'x-amz-date': '20240501T100000Z', authorization, ...headers },
        body: Buffer.from('{}'),
      };
      assert.throws(
        () => verify(req),
        (error: unknown) => {
          const { code, message: actual } = error as { code: string; message: string };
          assert.equal(code, 'IncompleteSignatureException');
          assert.ok(actual.includes(message), actual);
          assert.ok(!actual.includes('feedface'), `signature echoed: ${actual}`);
          return true;
        },
      );
    });
  }
});

// --- signing key cache -----------------------------------------------------------------------------------

describe('SigningKeyCache', () => {
  test('returns the same key object for the same inputs', () => {
    const cache = new SigningKeyCache();
    const first = cache.get(ACCESS_KEY_ID, SECRET_ACCESS_KEY, '20150830', 'us-east-1', 'iam');
    assert.equal(cache.get(ACCESS_KEY_ID, SECRET_ACCESS_KEY, '20150830', 'us-east-1', 'iam'), first);
    // The signing key the SigV4 documentation derives for these inputs.
    assert.equal(first.export().toString('hex'), 'c4afb1cc5771d871763a393e44b703571b55cc28424d1a5e86da6ed3c154a4b9');
  });

  test('derives a different key for a different date, region, service or secret', () => {
    const cache = new SigningKeyCache();
    const base = cache.get(ACCESS_KEY_ID, SECRET_ACCESS_KEY, '20240501', 'us-east-1', 'kms');
    for (const other of [
      cache.get(ACCESS_KEY_ID, SECRET_ACCESS_KEY, '20240502', 'us-east-1', 'kms'),
      cache.get(ACCESS_KEY_ID, SECRET_ACCESS_KEY, '20240501', 'eu-west-1', 'kms'),
      cache.get(ACCESS_KEY_ID, SECRET_ACCESS_KEY, '20240501', 'us-east-1', 'secretsmanager'),
      cache.get(ACCESS_KEY_ID, 'another-secret', '20240501', 'us-east-1', 'kms'),
      cache.get('AKIDOTHER', 'another-secret', '20240501', 'us-east-1', 'kms'),
    ]) {
      assert.notDeepEqual(other.export(), base.export());
    }
  });

  test('never serves a key derived from another secret under the same access key id', () => {
    const cache = new SigningKeyCache();
    const before = cache.get(ACCESS_KEY_ID, SECRET_ACCESS_KEY, '20240501', 'us-east-1', 'kms');
    const changed = cache.get(ACCESS_KEY_ID, 'a-new-secret', '20240501', 'us-east-1', 'kms');
    assert.notDeepEqual(changed.export(), before.export());
    assert.deepEqual(changed.export(), deriveSigningKey('a-new-secret', '20240501', 'us-east-1', 'kms'));
  });

  test('evicts the oldest entry when full', () => {
    const cache = new SigningKeyCache(2);
    const oldest = cache.get(ACCESS_KEY_ID, SECRET_ACCESS_KEY, '20240501', 'us-east-1', 'kms');
    const kept = cache.get(ACCESS_KEY_ID, SECRET_ACCESS_KEY, '20240502', 'us-east-1', 'kms');
    cache.get(ACCESS_KEY_ID, SECRET_ACCESS_KEY, '20240503', 'us-east-1', 'kms');
    assert.equal(cache.get(ACCESS_KEY_ID, SECRET_ACCESS_KEY, '20240502', 'us-east-1', 'kms'), kept);
    const rederived = cache.get(ACCESS_KEY_ID, SECRET_ACCESS_KEY, '20240501', 'us-east-1', 'kms');
    assert.notEqual(rederived, oldest);
    assert.deepEqual(rederived.export(), oldest.export());
  });

  test('rejects a non-positive size', () => {
    assert.throws(() => new SigningKeyCache(0), RangeError);
  });
});
