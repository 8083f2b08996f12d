import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { AwsError, Sensitive, type QueryServiceTable } from '../../../src/core/index.js';
import { decodeQueryBody, encodeQueryResponse, isQueryRequest, MAX_QUERY_MEMBER_SEGMENTS, renderQueryError } from '../../../src/protocol/index.js';

const table: QueryServiceTable = {
  targetPrefix: 'iam',
  signingName: 'iam',
  internalErrorCode: 'ServiceFailure',
  version: '2010-05-08',
  xmlNamespace: 'https://iam.amazonaws.com/doc/2010-05-08/',
  operations: {},
};

describe('AWS Query codec', () => {
  it('decodes flattened lists (in any order) and maps; Action and Version are not input', () => {
    const body = Buffer.from(
      'Action=CreateUser&Version=2010-05-08&UserName=a%26b&Tags.member.2.Key=k2&Tags.member.2.Value=v2&Tags.member.1.Key=k1&Tags.member.1.Value=' +
        '&Attrs.entry.1.key=x&Attrs.entry.1.value=y&TagKeys.member.1=one&__proto__.polluted=1',
    );
    assert.deepEqual(decodeQueryBody(body), {
      UserName: 'a&b',
      Tags: [{ Key: 'k1', Value: '' }, { Key: 'k2', Value: 'v2' }],
      Attrs: { x: 'y' },
      TagKeys: ['one'],
    });
    assert.equal(({} as Record<string, unknown>).polluted, undefined);
  });

  it('refuses a member name nested deeper than MAX_QUERY_MEMBER_SEGMENTS before unflattening it', () => {
    const deep = Buffer.from(`Action=GetUser&Version=2010-05-08&UserName${'.member.1'.repeat(100_000)}=x`);
    assert.throws(() => decodeQueryBody(deep), (error: unknown) => error instanceof AwsError && error.code === 'SerializationException');
    const atLimit = `A${'.member.1'.repeat((MAX_QUERY_MEMBER_SEGMENTS - 1) / 2)}`;
    assert.ok(decodeQueryBody(Buffer.from(`${atLimit}=x`)).A);
  });

  it('encodes the result with lists as <member>, dates in ISO 8601, escaped text and revealed Sensitive values', () => {
    const xml = encodeQueryResponse(
      { table, operationName: 'CreateAccessKey' },
      { AccessKey: { UserName: '<a & "b">', SecretAccessKey: new Sensitive('s3'), CreateDate: new Date(Date.UTC(2024, 0, 2, 3, 4, 5)), Tags: [{ Key: 'k' }], Missing: undefined } },
      'req-1',
    );
    assert.equal(
      xml,
      '<CreateAccessKeyResponse xmlns="https://iam.amazonaws.com/doc/2010-05-08/"><CreateAccessKeyResult><AccessKey>' +
        '<UserName>&lt;a &amp; &quot;b&quot;&gt;</UserName><SecretAccessKey>s3</SecretAccessKey><CreateDate>2024-01-02T03:04:05Z</CreateDate>' +
        '<Tags><member><Key>k</Key></member></Tags></AccessKey></CreateAccessKeyResult>' +
        '<ResponseMetadata><RequestId>req-1</RequestId></ResponseMetadata></CreateAccessKeyResponse>',
    );
    assert.equal(
      encodeQueryResponse({ table, operationName: 'DeleteUser' }, {}, 'r'),
      '<DeleteUserResponse xmlns="https://iam.amazonaws.com/doc/2010-05-08/"><ResponseMetadata><RequestId>r</RequestId></ResponseMetadata></DeleteUserResponse>',
    );
  });

  it('renders errors as <ErrorResponse>, with the shared codes under their Query names', () => {
    const notFound = renderQueryError(new AwsError('NoSuchEntity', 'The user with name <x> cannot be found.', 404), 'ServiceFailure', 'r1');
    assert.equal(notFound.status, 404);
    assert.equal(
      notFound.body,
      '<ErrorResponse><Error><Type>Sender</Type><Code>NoSuchEntity</Code><Message>The user with name &lt;x&gt; cannot be found.</Message></Error><RequestId>r1</RequestId></ErrorResponse>',
    );
    const denied = renderQueryError(new AwsError('AccessDeniedException', 'no', 400), 'ServiceFailure', 'r2');
    assert.deepEqual([denied.code, denied.status], ['AccessDenied', 403]);
    const internal = renderQueryError(new Error('secret detail'), 'ServiceFailure', 'r3');
    assert.equal(internal.status, 500);
    assert.match(internal.body, /<Type>Receiver<\/Type><Code>ServiceFailure<\/Code>/);
    assert.doesNotMatch(internal.body, /secret detail/);
  });

  it('recognizes a Query request by method and content type', () => {
    assert.equal(isQueryRequest('POST', 'application/x-www-form-urlencoded; charset=utf-8'), true);
    assert.equal(isQueryRequest('GET', 'application/x-www-form-urlencoded'), false);
    assert.equal(isQueryRequest('POST', 'application/x-amz-json-1.1'), false);
  });
});
