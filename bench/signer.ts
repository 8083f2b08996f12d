/**
 * SigV4 for the load generator, on node:crypto: the same headers, signed the same way, as the AWS SDK for
 * JavaScript v3 sends for an AWS JSON 1.1 call (captured from @aws-sdk/client-secrets-manager 3.1163:
 * SignedHeaders=amz-sdk-invocation-id;amz-sdk-request;content-length;content-type;host;x-amz-content-sha256;
 * x-amz-date;x-amz-target;x-amz-user-agent). `selfCheck` compares it with the SDK's own signer
 * (@smithy/signature-v4) before any load runs, so a drift fails the bench instead of skewing it.
 *
 * It is a separate signer (not @smithy/signature-v4 itself) because signing runs on the same two cores as
 * the server: this one costs about 15 µs per request (measured at every run), the SDK's async signer more.
 */
import { createHash, createHmac, randomUUID } from 'node:crypto';
import { SignatureV4 } from '@smithy/signature-v4';
import { HttpRequest } from '@smithy/core/protocols';

export type AccessKey = { accessKeyId: string; secretAccessKey: string };

/** One request, ready to send: `headers` carries everything but Content-Length, which the transport adds. */
export type SignedCall = { headers: Record<string, string>; body: Buffer };

const ALGORITHM = 'AWS4-HMAC-SHA256';
const SDK_VERSION = '3.1163.0';
const USER_AGENT = `aws-sdk-js/${SDK_VERSION} ua/2.1 os/linux lang/js md/nodejs#${process.versions.node} m/N,E,e coffer-bench`;

export class Signer {
  readonly #credentials: AccessKey;
  readonly #region: string;
  readonly #signingKeys = new Map<string, Buffer>();

  constructor(credentials: AccessKey, region = 'us-east-1') {
    this.#credentials = credentials;
    this.#region = region;
  }

  /**
   * Signs `POST /` with an AWS JSON 1.1 body for `host` ("127.0.0.1:PORT"). `service` is the signing name
   * (`secretsmanager`, `kms`), `target` the X-Amz-Target header.
   */
  sign(host: string, service: string, target: string, body: Buffer | string, now = new Date(), invocationId: string = randomUUID()): SignedCall {
    const payload = typeof body === 'string' ? Buffer.from(body, 'utf8') : body;
    const amzDate = now.toISOString().replace(/[-:]/g, '').replace(/\.\d{3}/, '');
    const date = amzDate.slice(0, 8);
    const payloadHash = createHash('sha256').update(payload).digest('hex');
    // Alphabetical, lower-case: the canonical order. Values carry no runs of spaces, so no folding is needed.
    const signed: [string, string][] = [
      ['amz-sdk-invocation-id', invocationId],
      ['amz-sdk-request', 'attempt=1; max=3'],
      ['content-length', String(payload.length)],
      ['content-type', 'application/x-amz-json-1.1'],
      ['host', host],
      ['x-amz-content-sha256', payloadHash],
      ['x-amz-date', amzDate],
      ['x-amz-target', target],
      ['x-amz-user-agent', `aws-sdk-js/${SDK_VERSION}`],
    ];
    const signedHeaderNames = signed.map(([name]) => name).join(';');
    let canonical = 'POST\n/\n\n';
    for (const [name, value] of signed) canonical += `${name}:${value}\n`;
    canonical += `\n${signedHeaderNames}\n${payloadHash}`;
    const scope = `${date}/${this.#region}/${service}/aws4_request`;
    const stringToSign = `${ALGORITHM}\n${amzDate}\n${scope}\n${createHash('sha256').update(canonical).digest('hex')}`;
    const signature = createHmac('sha256', this.#signingKey(date, service)).update(stringToSign).digest('hex');

    const headers: Record<string, string> = { 'user-agent': USER_AGENT };
    for (const [name, value] of signed) if (name !== 'content-length') headers[name] = value;
    headers.authorization = `${ALGORITHM} Credential=${this.#credentials.accessKeyId}/${scope}, SignedHeaders=${signedHeaderNames}, Signature=${signature}`;
    return { headers, body: payload };
  }

  #signingKey(date: string, service: string): Buffer {
    const cacheKey = `${date}/${service}`;
    let key = this.#signingKeys.get(cacheKey);
    if (key === undefined) {
      const hmac = (k: Buffer | string, data: string) => createHmac('sha256', k).update(data).digest();
      key = hmac(hmac(hmac(hmac(`AWS4${this.#credentials.secretAccessKey}`, date), this.#region), service), 'aws4_request');
      this.#signingKeys.set(cacheKey, key);
    }
    return key;
  }
}

/** Signs one request with this signer and with the SDK's signer; throws unless the signatures agree. */
export async function selfCheck(): Promise<void> {
  const credentials = { accessKeyId: 'AKIDEXAMPLE', secretAccessKey: 'wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY' };
  const now = new Date('2026-01-02T03:04:05Z');
  const body = '{"SecretId":"bench/self-check"}';
  const ours = new Signer(credentials).sign('127.0.0.1:7766', 'secretsmanager', 'secretsmanager.GetSecretValue', body, now, '00000000-0000-4000-8000-000000000000');
  const { authorization: _ours, 'user-agent': userAgent, ...signedHeaders } = ours.headers;
  const sdk = new SignatureV4({ credentials, region: 'us-east-1', service: 'secretsmanager', sha256: NodeSha256 });
  const request = new HttpRequest({
    method: 'POST',
    protocol: 'http:',
    hostname: '127.0.0.1',
    port: 7766,
    path: '/',
    headers: { ...signedHeaders, 'content-length': String(Buffer.byteLength(body)), 'user-agent': userAgent! },
    body,
  });
  // The SDK leaves user-agent out of the signature (it is in ALWAYS_UNSIGNABLE_HEADERS), as we do.
  const signed = (await sdk.sign(request, { signingDate: now })) as HttpRequest;
  if (signed.headers.authorization !== ours.headers.authorization) {
    throw new Error(`bench signer disagrees with @smithy/signature-v4:\n ours ${ours.headers.authorization}\n sdk  ${signed.headers.authorization}`);
  }
}

/** The SDK's hash constructor contract, on node:crypto (HMAC when given a secret). */
class NodeSha256 {
  readonly #hash;
  constructor(secret?: string | ArrayBuffer | ArrayBufferView) {
    this.#hash = secret === undefined ? createHash('sha256') : createHmac('sha256', toBuffer(secret));
  }
  update(chunk: Uint8Array): void {
    this.#hash.update(chunk);
  }
  async digest(): Promise<Uint8Array> {
    return new Uint8Array(this.#hash.digest());
  }
  reset(): void {
    throw new Error('not used by the self-check');
  }
}

function toBuffer(data: string | ArrayBuffer | ArrayBufferView): Buffer {
  if (typeof data === 'string') return Buffer.from(data, 'utf8');
  if (data instanceof ArrayBuffer) return Buffer.from(new Uint8Array(data));
  return Buffer.from(data.buffer, data.byteOffset, data.byteLength);
}
