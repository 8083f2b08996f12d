import { constants, createHmac, generateKeyPairSync, sign, type JsonWebKey, type KeyObject } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

/**
 * A small OpenID Connect issuer for tests, with node:http and node:crypto only: it serves
 * `/.well-known/openid-configuration` and its JWKS (`/keys`) on 127.0.0.1, and signs ID tokens itself, with
 * RSA (RS*, PS*) and EC (ES256, ES384) keys. A key may be signed with yet left out of the published set (an
 * unknown kid), and requests for the JWKS are counted (to see the verifier's refreshes).
 */
export type IssuerKey = { kid: string; privateKey: KeyObject; jwk: JsonWebKey };

export type SignOptions = { alg?: string; kid?: string | null; key?: IssuerKey; header?: Record<string, unknown> };

export type TestIssuer = {
  /** `http://127.0.0.1:<port>`: the `iss` of its tokens and the provider URL. */
  url: string;
  /** `127.0.0.1:<port>`: the provider ARN's and condition keys' host/path. */
  host: string;
  rsa: IssuerKey;
  ec256: IssuerKey;
  ec384: IssuerKey;
  /** How many times the JWKS was fetched. */
  jwksRequests(): number;
  /** Adds a key to the published set (a rotation), or makes one that is never published. */
  newKey(kind: 'rsa' | 'ec', options?: { publish?: boolean }): IssuerKey;
  /** The published JWKS document, as `kubectl get --raw /openid/v1/jwks` would print it. */
  jwks(): { keys: JsonWebKey[] };
  /** A signed token with these claims (iss defaults to url; exp to an hour from now; iat to now). */
  token(claims: Record<string, unknown>, options?: SignOptions): string;
  close(): Promise<void>;
};

const nowSeconds = () => Math.floor(Date.now() / 1000);
const base64url = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64url');

let kids = 0;

function makeKey(kind: 'rsa' | 'ec', curve = 'P-256'): IssuerKey {
  const kid = `${kind}-${++kids}-${process.pid}`;
  const pair = kind === 'rsa' ? generateKeyPairSync('rsa', { modulusLength: 2048 }) : generateKeyPairSync('ec', { namedCurve: curve });
  return { kid, privateKey: pair.privateKey, jwk: { ...pair.publicKey.export({ format: 'jwk' }), kid, use: 'sig' } };
}

/** Signs `header.payload` as JOSE does: PKCS#1 v1.5, PSS (salt = digest length) or ECDSA r||s. */
function signature(alg: string, input: string, key: IssuerKey): Buffer {
  const digest = `sha${alg.slice(2)}`;
  if (alg.startsWith('ES')) return sign(digest, Buffer.from(input), { key: key.privateKey, dsaEncoding: 'ieee-p1363' });
  if (alg.startsWith('PS')) return sign(digest, Buffer.from(input), { key: key.privateKey, padding: constants.RSA_PKCS1_PSS_PADDING, saltLength: constants.RSA_PSS_SALTLEN_DIGEST });
  if (alg.startsWith('RS')) return sign(digest, Buffer.from(input), key.privateKey);
  if (alg.startsWith('HS')) return createHmac(`sha${alg.slice(2)}`, String(key.jwk.n ?? key.jwk.x)).update(input).digest();
  return Buffer.alloc(0); // alg none
}

export async function startTestIssuer(): Promise<TestIssuer> {
  const rsa = makeKey('rsa');
  const ec256 = makeKey('ec', 'P-256');
  const ec384 = makeKey('ec', 'P-384');
  const published: IssuerKey[] = [rsa, ec256, ec384];
  let jwksRequests = 0;
  let url = '';
  const server: Server = createServer((request, response) => {
    const send = (body: unknown) => response.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(body));
    if (request.url === '/.well-known/openid-configuration') return send({ issuer: url, jwks_uri: `${url}/keys`, id_token_signing_alg_values_supported: ['RS256', 'ES256'] });
    if (request.url === '/keys') {
      jwksRequests += 1;
      return send({ keys: published.map((key) => key.jwk) });
    }
    response.writeHead(404).end();
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  url = `http://127.0.0.1:${port}`;
  return {
    url,
    host: `127.0.0.1:${port}`,
    rsa,
    ec256,
    ec384,
    jwksRequests: () => jwksRequests,
    newKey(kind, options = {}) {
      const key = makeKey(kind);
      if (options.publish !== false) published.push(key);
      return key;
    },
    jwks: () => ({ keys: published.map((key) => key.jwk) }),
    token(claims, options = {}) {
      const key = options.key ?? rsa;
      const alg = options.alg ?? (key.jwk.kty === 'EC' ? (key.jwk.crv === 'P-384' ? 'ES384' : 'ES256') : 'RS256');
      const header = { alg, typ: 'JWT', ...(options.kid === null ? {} : { kid: options.kid ?? key.kid }), ...options.header };
      const payload = { iss: url, iat: nowSeconds(), exp: nowSeconds() + 3600, ...claims };
      const input = `${base64url(header)}.${base64url(payload)}`;
      return `${input}.${signature(alg, input, key).toString('base64url')}`;
    },
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
