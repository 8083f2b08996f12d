/**
 * The floor as a measurement (issue 21): a node:http server that does, for each GetSecretValue and KMS Decrypt,
 * only the work no call may drop, with Coffer's own code from the build under test, and nothing else: read the
 * body, verify SigV4 (the `--dev` key, known without a lookup), parse the JSON body, open the envelopes with
 * Coffer's crypto (GetSecretValue: the data key's ciphertext blob under a KMS key, then the 1 KB value under the
 * data key; Decrypt: the CiphertextBlob the load sends), append one audit event through Coffer's recorder and
 * audit writer thread (audit.db on the disk, synchronous=FULL, hash chain, the event body Coffer writes for the
 * call), answer once the event is durable, with the JSON Coffer answers. No lookup, no authorization, no schema,
 * no metrics, no request batching. What it costs per request beside Coffer and the bare server in the same run
 * is the floor a Coffer-shaped server reaches on the machine.
 *
 * Run as `node skeleton-server.js PORT DIST DATA_DIR [WITHOUT]` (bench/peers.ts startSkeleton): DIST is the build's
 * dist/ (the bench's snapshot), DATA_DIR where coffer.db (empty) and audit.db go, WITHOUT a comma-separated list
 * of parts left out, so each part's cost is measured by taking it away (SKELETON_PARTS in skeleton-parts.ts).
 * Encrypt is served too, so the bench can make the ciphertexts its Decrypt load sends (bench/fixtures.ts).
 */
import { hash, randomBytes, randomUUID } from 'node:crypto';
import { mkdirSync } from 'node:fs';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { parseSkeletonParts, type SkeletonPart } from './skeleton-parts.js';
import { secretName, secretValue } from './seed.js';

/** The slices of the build's modules used here (dist/…): what the pipeline and the services call. */
type Principal = { accountId: string; arn: string; accessKeyId: string };
type DecodedBlob = { keyId: string; backingKeyId: string; header: Buffer; iv: Buffer; tag: Buffer; ciphertext: Buffer };
type Build = {
  core: {
    Sensitive: new <T>(value: T) => unknown;
    accountRootArn(accountId: string): string;
    kmsKeyArn(region: string, accountId: string, keyId: string): string;
    decodeBase64(text: string, ownBuffer?: boolean): Buffer | undefined;
    commonError(code: string, message: string): Error;
  };
  crypto: {
    seal(key: Buffer, plaintext: Buffer, aad: Buffer): { iv: Buffer; tag: Buffer; ciphertext: Buffer };
    open(key: Buffer, sealed: { iv: Buffer; tag: Buffer; ciphertext: Buffer }, aad: Buffer): Buffer | undefined;
    sealToBuffer(key: Buffer, plaintext: Buffer, aad: Buffer): Buffer;
    openFromBuffer(key: Buffer, record: Buffer, aad: Buffer): Buffer | undefined;
    encodeBlobHeader(keyId: string, backingKeyId: string): Buffer;
    encodeBlob(header: Buffer, sealed: { iv: Buffer; tag: Buffer; ciphertext: Buffer }): Buffer;
    decodeBlob(blob: Buffer): DecodedBlob | undefined;
    blobAad(header: Buffer, context: Record<string, string> | undefined): Buffer;
    canonicalEncryptionContext(context: Record<string, string> | undefined): Buffer;
  };
  sigv4: {
    verifySigV4(request: SignedRequest, lookup: (accessKeyId: string) => string | undefined, now: Date, cache: unknown): { region: string; service: string };
    SigningKeyCache: new () => unknown;
  };
  auth: { BOOTSTRAP_ACCOUNT_ID: string; DEV_ACCESS_KEY: { accessKeyId: string; secretAccessKey: string } };
  protocol: {
    decodeJsonBody(body: Buffer): Record<string, any>;
    encodeJsonBody(output: unknown): string;
    renderError(error: unknown, internalErrorCode: string, requestId: string): { status: number; body: string };
    JSON11_CONTENT_TYPE: string;
  };
  audit: {
    createAuditRecorder(deps: { store: unknown; logger: unknown; failClosed: boolean }): { record(call: Record<string, unknown>): Promise<unknown> };
  };
  sqlite: { SqliteStore: new (path: string) => { migrate(): void; startAuditWriter(): void; close(): Promise<void> | void } };
  edge: { EdgeRequest: typeof IncomingMessage };
};
type SignedRequest = { method: string; path: string; query: string; headers: Record<string, string | string[] | undefined>; body: Buffer };

async function loadBuild(dist: string): Promise<Build> {
  const load = (path: string) => import(pathToFileURL(join(dist, path)).href);
  const [core, crypto, sigv4, auth, protocol, audit, sqlite, edge] = await Promise.all([
    load('core/index.js'),
    load('crypto/index.js'),
    load('auth/sigv4/index.js'),
    load('auth/index.js'),
    load('protocol/index.js'),
    load('audit/index.js'),
    load('store/sqlite/index.js'),
    load('server/request-headers.js'),
  ]);
  return { core, crypto, sigv4, auth, protocol, audit, sqlite, edge } as Build;
}

/** One operation: the signing name its credential scope must carry, and the work of the call (input → output). */
type Operation = { service: 'secretsmanager' | 'kms'; name: string; run(input: Record<string, any>, region: string): Record<string, unknown> };

const REGION = 'us-east-1';
const SYMMETRIC_DEFAULT = 'SYMMETRIC_DEFAULT';
const quietLogger = { debug() {}, info() {}, warn() {}, error: (message: string) => process.stderr.write(`skeleton: ${message}\n`) };

async function main(): Promise<void> {
  const [portText, dist, dataDir, withoutText] = process.argv.slice(2);
  if (!portText || !dist || !dataDir) throw new Error('usage: node skeleton-server.js PORT DIST DATA_DIR [audit,sigv4,aes]');
  const without = new Set<SkeletonPart>(parseSkeletonParts(withoutText ?? ''));
  const build = await loadBuild(dist);
  const { core, crypto, protocol } = build;

  const principal: Principal = Object.freeze({
    accountId: build.auth.BOOTSTRAP_ACCOUNT_ID,
    arn: core.accountRootArn(build.auth.BOOTSTRAP_ACCOUNT_ID),
    accessKeyId: build.auth.DEV_ACCESS_KEY.accessKeyId,
  });
  const kms = kmsKey(build, principal.accountId);
  const secret = sealedSecret(build, kms, principal.accountId);
  const operations = new Map<string, Operation>([
    ['secretsmanager.GetSecretValue', getSecretValue(build, kms, secret, without.has('aes'))],
    ['TrentService.Decrypt', decrypt(build, kms, without.has('aes'))],
    ['TrentService.Encrypt', encrypt(build, kms)],
  ]);
  const verify = without.has('sigv4') ? undefined : signatureVerifier(build);
  const record = without.has('audit') ? undefined : auditRecorder(build, dataDir);

  async function answer(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const body = await bodyOf(req);
    const requestId = randomUUID();
    const headers = { 'content-type': protocol.JSON11_CONTENT_TYPE, 'x-amzn-requestid': requestId };
    try {
      const target = req.headers['x-amz-target'];
      const operation = typeof target === 'string' ? operations.get(target) : undefined;
      if (!operation) throw core.commonError('UnknownOperationException', 'The skeleton serves GetSecretValue, Decrypt and Encrypt only.');
      const time = new Date();
      const region = verify ? verify(req, body, time, operation.service) : REGION;
      const input = protocol.decodeJsonBody(body);
      const output = operation.run(input, region);
      // The call as the pipeline hands it to the recorder (server/pipeline.ts newCall, describeTarget, describeContext).
      const recorded = record?.({
        requestId,
        time,
        sourceIp: req.socket.remoteAddress,
        userAgent: req.headers['user-agent'],
        service: operation.service,
        operation: operation.name,
        principal,
        region,
        input,
        output,
      });
      const text = protocol.encodeJsonBody(output);
      if (recorded) await recorded;
      send(res, 200, headers, text);
    } catch (error) {
      const rendered = protocol.renderError(error, 'InternalFailure', requestId);
      send(res, rendered.status, headers, rendered.body);
    }
  }

  const server = createServer({ keepAliveTimeout: 65_000, IncomingMessage: build.edge.EdgeRequest }, (req, res) => {
    if (req.method === 'GET') return send(res, 200, { 'content-type': 'application/json' }, '{"status":"ok"}');
    answer(req, res).catch((error: unknown) => {
      process.stderr.write(`skeleton: ${error instanceof Error ? error.stack : String(error)}\n`);
      res.destroy();
    });
  });
  process.on('SIGTERM', () => server.close(() => process.exit(0)));
  server.listen(Number(portText), '127.0.0.1');
}

/** The KMS key the skeleton holds: an id, its ARN, 32 bytes of material and the KeyMaterialId Decrypt answers. */
type KmsKey = { keyId: string; arn: string; backingKeyId: string; material: Buffer; keyMaterialId: string };

function kmsKey(build: Build, accountId: string): KmsKey {
  const keyId = randomUUID();
  const backingKeyId = randomUUID();
  return {
    keyId,
    arn: build.core.kmsKeyArn(REGION, accountId, keyId),
    backingKeyId,
    material: randomBytes(32),
    // As kms/key-material-id.ts makes it (remembered there: one hash per backing key, not per call).
    keyMaterialId: hash('sha256', `coffer key material id\0${backingKeyId}`, 'hex'),
  };
}

/** The hot secret, sealed at start as Coffer seals a version (kms/envelope-port.ts sealEnvelope): its own data key. */
type SealedSecret = { name: string; arn: string; versionId: string; createdDate: Date; encryptedDataKey: Buffer; sealedValue: Buffer; plain: Buffer };

function sealedSecret(build: Build, kms: KmsKey, accountId: string): SealedSecret {
  const { crypto } = build;
  const name = secretName(0);
  const arn = `arn:aws:secretsmanager:${REGION}:${accountId}:secret:${name}-${randomBytes(3).toString('hex')}`;
  const versionId = randomUUID();
  const context = encryptionContext(arn, versionId);
  const dataKey = randomBytes(32);
  const header = crypto.encodeBlobHeader(kms.keyId, kms.backingKeyId);
  const encryptedDataKey = crypto.encodeBlob(header, crypto.seal(kms.material, dataKey, crypto.blobAad(header, context)));
  const plain = Buffer.from(secretValue(), 'utf8');
  const sealedValue = crypto.sealToBuffer(dataKey, plain, crypto.canonicalEncryptionContext(context));
  dataKey.fill(0);
  return { name, arn, versionId, createdDate: new Date(), encryptedDataKey, sealedValue, plain };
}

/** The context Secrets Manager binds a version's data key and value to (secrets/secret-values.ts). */
function encryptionContext(secretArn: string, versionId: string): Record<string, string> {
  return { SecretARN: secretArn, SecretVersionId: versionId };
}

const VERSION_STAGES = ['AWSCURRENT'];

/**
 * GetSecretValue of the one secret: the data key's blob opened under the KMS key (kms/operations/cryptography.ts
 * openCiphertext), the value under the data key (kms/envelope-port.ts openEnvelope), the answer of
 * secrets/operations/values.ts. `withoutAes`: the plaintext kept at start instead of the two opens.
 */
function getSecretValue(build: Build, kms: KmsKey, secret: SealedSecret, withoutAes: boolean): Operation {
  const { core, crypto } = build;
  const openValue = (): Buffer => {
    const context = encryptionContext(secret.arn, secret.versionId);
    const decoded = crypto.decodeBlob(secret.encryptedDataKey)!;
    const dataKey = crypto.open(kms.material, decoded, crypto.blobAad(decoded.header, context));
    if (!dataKey) throw core.commonError('InternalFailure', 'the data key does not open');
    try {
      const value = crypto.openFromBuffer(dataKey, secret.sealedValue, crypto.canonicalEncryptionContext(context));
      if (!value) throw core.commonError('InternalFailure', 'the value does not open');
      return value;
    } finally {
      dataKey.fill(0);
    }
  };
  return {
    service: 'secretsmanager',
    name: 'GetSecretValue',
    run(input) {
      if (input.SecretId !== secret.name && input.SecretId !== secret.arn) {
        throw core.commonError('ResourceNotFoundException', "Secrets Manager can't find the specified secret.");
      }
      const value = withoutAes ? secret.plain : openValue();
      return {
        ARN: secret.arn,
        Name: secret.name,
        VersionId: secret.versionId,
        SecretString: new core.Sensitive(value.toString('utf8')),
        VersionStages: VERSION_STAGES,
        CreatedDate: secret.createdDate,
      };
    },
  };
}

/**
 * Decrypt of a blob made by this skeleton's Encrypt: decoded (core/shapes.ts, into a buffer of its own as the
 * API's schema does), its header read, opened with its header and the canonical context as AAD. `withoutAes`: the
 * plaintext of the last Encrypt (the load encrypts one plaintext; the bench's probe checks every answer).
 */
function decrypt(build: Build, kms: KmsKey, withoutAes: boolean): Operation {
  const { core, crypto } = build;
  const invalid = () => core.commonError('InvalidCiphertextException', 'The ciphertext is invalid.');
  return {
    service: 'kms',
    name: 'Decrypt',
    run(input) {
      let plaintext: Buffer;
      if (withoutAes) {
        plaintext = lastPlaintext;
      } else {
        const blob = typeof input.CiphertextBlob === 'string' ? core.decodeBase64(input.CiphertextBlob, true) : undefined;
        const decoded = blob && crypto.decodeBlob(blob);
        if (!decoded || decoded.keyId !== kms.keyId || decoded.backingKeyId !== kms.backingKeyId) throw invalid();
        const opened = crypto.open(kms.material, decoded, crypto.blobAad(decoded.header, input.EncryptionContext));
        if (!opened) throw invalid();
        plaintext = opened;
      }
      return { KeyId: kms.arn, Plaintext: new core.Sensitive(plaintext), EncryptionAlgorithm: SYMMETRIC_DEFAULT, KeyMaterialId: kms.keyMaterialId };
    },
  };
}

let lastPlaintext = Buffer.alloc(0);

/** Encrypt under the one key, whatever KeyId names (kms/symmetric-ciphertext.ts encryptUnder): for the Decrypt load's blobs. */
function encrypt(build: Build, kms: KmsKey): Operation {
  const { core, crypto } = build;
  return {
    service: 'kms',
    name: 'Encrypt',
    run(input) {
      const plaintext = typeof input.Plaintext === 'string' ? core.decodeBase64(input.Plaintext) : undefined;
      if (!plaintext) throw core.commonError('ValidationException', 'Plaintext must be base64.');
      lastPlaintext = Buffer.from(plaintext);
      const header = crypto.encodeBlobHeader(kms.keyId, kms.backingKeyId);
      const blob = crypto.encodeBlob(header, crypto.seal(kms.material, plaintext, crypto.blobAad(header, input.EncryptionContext)));
      return { CiphertextBlob: blob, KeyId: kms.arn, EncryptionAlgorithm: SYMMETRIC_DEFAULT };
    },
  };
}

/**
 * SigV4 with Coffer's verifier and its signing-key cache, for the `--dev` key (the one the bench signs with),
 * which Coffer's credentials answer without a store lookup too; the credential scope must name the operation's
 * service (server/pipeline.ts signedContext). Returns the scope's region.
 */
function signatureVerifier(build: Build) {
  const { accessKeyId, secretAccessKey } = build.auth.DEV_ACCESS_KEY;
  const lookup = (id: string) => (id === accessKeyId ? secretAccessKey : undefined);
  const signingKeys = new build.sigv4.SigningKeyCache();
  return (req: IncomingMessage, body: Buffer, now: Date, service: string): string => {
    const url = req.url ?? '/';
    const queryStart = url.indexOf('?');
    const request: SignedRequest = {
      method: req.method ?? 'POST',
      path: queryStart === -1 ? url : url.slice(0, queryStart),
      query: queryStart === -1 ? '' : url.slice(queryStart + 1),
      headers: req.headers,
      body,
    };
    const identity = build.sigv4.verifySigV4(request, lookup, now, signingKeys);
    if (identity.service !== service) throw build.core.commonError('InvalidSignatureException', `Credential should be scoped to correct service: '${service}'.`);
    return identity.region;
  };
}

/**
 * Coffer's recorder (audit/recorder.ts: the event built and bounded, canonical JSON, group commit) over a SqliteStore
 * whose only use is its audit log: audit.db in DATA_DIR, appended by the store's writer thread (WAL, synchronous=FULL,
 * the hash chain sealed there). Fail-open without a spool: the spool is only written when an append fails.
 */
function auditRecorder(build: Build, dataDir: string): (call: Record<string, unknown>) => Promise<unknown> {
  mkdirSync(dataDir, { recursive: true });
  const store = new build.sqlite.SqliteStore(join(dataDir, 'coffer.db'));
  store.migrate();
  store.startAuditWriter();
  const recorder = build.audit.createAuditRecorder({ store, logger: quietLogger, failClosed: false });
  return (call) => recorder.record(call);
}

/**
 * The request's body: in one call when the parser has all of it already (as server/http.ts bufferedBody takes an
 * SDK's small request), else read as it comes.
 */
function bodyOf(req: IncomingMessage): Promise<Buffer> | Buffer {
  if (req.complete && req.readableFlowing === null) return req.readableLength === 0 ? Buffer.alloc(0) : (req.read() as Buffer);
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => resolve(chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks)));
    req.on('error', reject);
  });
}

/** The head as a flat list and the body in one go, as server/http.ts send() writes them. */
function send(res: ServerResponse, status: number, headers: Record<string, string>, body: string): void {
  const head: string[] = [];
  for (const name in headers) head.push(name, headers[name]!);
  head.push('content-length', String(Buffer.byteLength(body)));
  res.writeHead(status, head);
  res.end(body);
}

main().catch((error: unknown) => {
  process.stderr.write(`skeleton failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
  process.exit(1);
});
