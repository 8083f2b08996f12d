import { createHash, createHmac, type Hash, type Hmac } from 'node:crypto';
import { SignatureV4 } from '@smithy/signature-v4';
import { HttpRequest } from '@smithy/core/protocols';

/** The SDK's hash constructor contract, on node:crypto (HMAC when given a secret). */
export class NodeSha256 {
  readonly #secret: Buffer | undefined;
  #hash: Hash | Hmac;

  constructor(secret?: string | ArrayBuffer | ArrayBufferView) {
    this.#secret = secret === undefined ? undefined : toBuffer(secret);
    this.#hash = this.#fresh();
  }

  update(chunk: Uint8Array): void {
    this.#hash.update(chunk);
  }

  async digest(): Promise<Uint8Array> {
    return new Uint8Array(this.#hash.digest());
  }

  reset(): void {
    this.#hash = this.#fresh();
  }

  #fresh(): Hash | Hmac {
    return this.#secret === undefined ? createHash('sha256') : createHmac('sha256', this.#secret);
  }
}

function toBuffer(data: string | ArrayBuffer | ArrayBufferView): Buffer {
  if (typeof data === 'string') return Buffer.from(data, 'utf8');
  if (data instanceof ArrayBuffer) return Buffer.from(new Uint8Array(data));
  return Buffer.from(data.buffer, data.byteOffset, data.byteLength);
}

export type AccessKey = { accessKeyId: string; secretAccessKey: string };

export type RawCallOptions = {
  /** X-Amz-Target; omitted when undefined. */
  target?: string;
  /** Sent as is, so malformed JSON can carry a valid signature. Default '{}'. */
  body?: string | Buffer;
  /** Signing key; undefined sends the request unsigned. */
  credentials?: AccessKey;
  region?: string;
  /** The service in the credential scope. Default 'kms'. */
  service?: string;
  /** When the signature claims to be made. Default now. */
  signingDate?: Date;
  headers?: Record<string, string>;
  /** Sent instead of `body` after signing, to tamper with a signed request. */
  sendBody?: string;
};

export type RawResponse = { status: number; headers: Headers; text: string; json: Record<string, unknown> | undefined };

/**
 * The headers of a raw AWS JSON 1.1 POST to `/`, signed with the SDK's own SigV4 signer
 * (@smithy/signature-v4) when credentials are given. Host is left out: fetch and node:http set it from the
 * URL, which is the value that was signed.
 */
export async function signedHeaders(endpoint: string, options: RawCallOptions = {}): Promise<Record<string, string>> {
  const url = new URL(endpoint);
  const headers: Record<string, string> = {
    'content-type': 'application/x-amz-json-1.1',
    ...(options.target === undefined ? {} : { 'x-amz-target': options.target }),
    ...options.headers,
  };
  if (!options.credentials) return headers;
  const signer = new SignatureV4({
    credentials: options.credentials,
    region: options.region ?? 'us-east-1',
    service: options.service ?? 'kms',
    sha256: NodeSha256,
  });
  const request = new HttpRequest({
    method: 'POST',
    protocol: url.protocol,
    hostname: url.hostname,
    port: Number(url.port),
    path: '/',
    headers: { ...headers, host: url.host },
    body: options.body ?? '{}',
  });
  const signed = (await signer.sign(request, { signingDate: options.signingDate ?? new Date() })) as HttpRequest;
  const { host: _host, ...rest } = signed.headers;
  return rest;
}

/**
 * POSTs a raw AWS JSON 1.1 request, signed with the SDK's own SigV4 signer, so a test controls every byte
 * of the body and still gets past authentication.
 */
export async function rawCall(endpoint: string, options: RawCallOptions = {}): Promise<RawResponse> {
  const body = options.body ?? '{}';
  const headers = await signedHeaders(endpoint, options);
  const response = await fetch(new URL('/', endpoint), { method: 'POST', headers, body: (options.sendBody ?? body) as unknown as BodyInit });
  const text = await response.text();
  let json: Record<string, unknown> | undefined;
  try {
    json = JSON.parse(text) as Record<string, unknown>;
  } catch {
    json = undefined;
  }
  return { status: response.status, headers: response.headers, text, json };
}
