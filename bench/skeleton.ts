/**
 * The skeleton's work per call (issue 21's floor as a measurement): for GetSecretValue and KMS Decrypt, only the
 * work no call may drop, with Coffer's own code from the build under test, and nothing else: SigV4 with Coffer's
 * verifier (the `--dev` key, known without a lookup), the JSON body, the envelope opens with Coffer's crypto
 * (GetSecretValue: the data key's ciphertext blob under a KMS key, then the 1 KB value under the data key; Decrypt:
 * the CiphertextBlob the load sends), one audit event through Coffer's recorder and audit writer thread (audit.db on
 * the disk, synchronous=FULL, hash chain, the event body Coffer writes for the call), the answer once the event is
 * durable, with the JSON Coffer answers. No lookup, no authorization, no schema, no metrics, no request batching.
 * Encrypt is served too, so the bench can make the ciphertexts its Decrypt load sends (bench/fixtures.ts).
 *
 * Served over HTTP by skeleton-server.ts (a peer of the bench), and called in process by skeleton-in-process.ts.
 * Each part in SKELETON_PARTS can be left out, so its cost is measured by taking it away.
 */
import { hash, randomBytes, randomUUID } from 'node:crypto';
import { mkdirSync } from 'node:fs';
import type { IncomingHttpHeaders, IncomingMessage } from 'node:http';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import type { SkeletonPart } from './skeleton-parts.js';
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
type SignedRequest = { method: string; path: string; query: string; headers: IncomingHttpHeaders; body: Buffer };

/** What a call to the skeleton carries: as node:http hands it over (`url` with its query), the body read. */
export type SkeletonRequest = { method: string; url: string; headers: IncomingHttpHeaders; body: Buffer; sourceIp: string | undefined };
export type SkeletonResponse = { status: number; headers: Record<string, string>; body: string };
export type Skeleton = {
  handle(request: SkeletonRequest): Promise<SkeletonResponse>;
  /** node:http's request class Coffer's edge uses (server/request-headers.ts: the headers object made from rawHeaders). */
  EdgeRequest: typeof IncomingMessage;
  close(): Promise<void>;
};

/** Loads the build's modules from `dist` and makes the skeleton's state: its KMS key, its sealed secret, its audit log. */
export async function openSkeleton(dist: string, dataDir: string, without: ReadonlySet<SkeletonPart>): Promise<Skeleton> {
  const build = await loadBuild(dist);
  const { core, protocol } = build;
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
  const audit = without.has('audit') ? undefined : auditRecorder(build, dataDir);

  async function handle(request: SkeletonRequest): Promise<SkeletonResponse> {
    const requestId = randomUUID();
    const headers = { 'content-type': protocol.JSON11_CONTENT_TYPE, 'x-amzn-requestid': requestId };
    try {
      const target = request.headers['x-amz-target'];
      const operation = typeof target === 'string' ? operations.get(target) : undefined;
      if (!operation) throw core.commonError('UnknownOperationException', 'The skeleton serves GetSecretValue, Decrypt and Encrypt only.');
      const time = new Date();
      const region = verify ? verify(request, time, operation.service) : REGION;
      const input = protocol.decodeJsonBody(request.body);
      const output = operation.run(input);
      // The call as the pipeline hands it to the recorder (server/pipeline.ts newCall, describeTarget, describeContext).
      const recorded = audit?.record({
        requestId,
        time,
        sourceIp: request.sourceIp,
        userAgent: request.headers['user-agent'],
        service: operation.service,
        operation: operation.name,
        principal,
        region,
        input,
        output,
      });
      const body = protocol.encodeJsonBody(output);
      if (recorded) await recorded;
      return { status: 200, headers, body };
    } catch (error) {
      const rendered = protocol.renderError(error, 'InternalFailure', requestId);
      return { status: rendered.status, headers, body: rendered.body };
    }
  }

  return { handle, EdgeRequest: build.edge.EdgeRequest, close: async () => audit?.close() };
}

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
type Operation = { service: 'secretsmanager' | 'kms'; name: string; run(input: Record<string, any>): Record<string, unknown> };

const REGION = 'us-east-1';
const SYMMETRIC_DEFAULT = 'SYMMETRIC_DEFAULT';
const quietLogger = { debug() {}, info() {}, warn() {}, error: (message: string) => process.stderr.write(`skeleton: ${message}\n`) };

/**
 * The KMS key the skeleton holds: an id, its ARN, 32 bytes of material, the KeyMaterialId Decrypt answers, and the
 * plaintext its Encrypt was last given (what Decrypt answers when the opens are left out).
 */
type KmsKey = { keyId: string; arn: string; backingKeyId: string; material: Buffer; keyMaterialId: string; lastPlaintext: Buffer };

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
    lastPlaintext: Buffer.alloc(0),
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
        plaintext = kms.lastPlaintext;
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

/** Encrypt under the one key, whatever KeyId names (kms/symmetric-ciphertext.ts encryptUnder): for the Decrypt load's blobs. */
function encrypt(build: Build, kms: KmsKey): Operation {
  const { core, crypto } = build;
  return {
    service: 'kms',
    name: 'Encrypt',
    run(input) {
      const plaintext = typeof input.Plaintext === 'string' ? core.decodeBase64(input.Plaintext) : undefined;
      if (!plaintext) throw core.commonError('ValidationException', 'Plaintext must be base64.');
      kms.lastPlaintext = Buffer.from(plaintext);
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
  return (call: SkeletonRequest, now: Date, service: string): string => {
    const queryStart = call.url.indexOf('?');
    const request: SignedRequest = {
      method: call.method,
      path: queryStart === -1 ? call.url : call.url.slice(0, queryStart),
      query: queryStart === -1 ? '' : call.url.slice(queryStart + 1),
      headers: call.headers,
      body: call.body,
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
function auditRecorder(build: Build, dataDir: string): { record(call: Record<string, unknown>): Promise<unknown>; close(): Promise<void> } {
  mkdirSync(dataDir, { recursive: true });
  const store = new build.sqlite.SqliteStore(join(dataDir, 'coffer.db'));
  store.migrate();
  store.startAuditWriter();
  const recorder = build.audit.createAuditRecorder({ store, logger: quietLogger, failClosed: false });
  return { record: (call) => recorder.record(call), close: async () => store.close() };
}

