import { execFileSync, spawnSync } from 'node:child_process';
import { randomBytes, randomUUID } from 'node:crypto';
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { LambdaClient } from '@aws-sdk/client-lambda';
import { HttpRequest } from '@smithy/core/protocols';
import { SignatureV4 } from '@smithy/signature-v4';
import { systemClock, type RequestContext } from '../../src/core/index.js';
import { createRole, LAMBDA_TRUST_POLICY } from './principals.js';
import { NodeSha256, type AccessKey } from './signed-fetch.js';
import type { TestServer } from './start-server.js';

export const ACCOUNT_ID = '000000000000';
export const REGION = 'us-east-1';
export const ROLE = `arn:aws:iam::${ACCOUNT_ID}:role/coffer-test-function`;
/** What AWS's rotation templates ask of their execution role (rotating-secrets-required-permissions-function). */
export const ROTATION_ACTIONS = [
  'secretsmanager:DescribeSecret',
  'secretsmanager:GetSecretValue',
  'secretsmanager:PutSecretValue',
  'secretsmanager:UpdateSecretVersionStage',
  'secretsmanager:GetRandomPassword',
];

/**
 * Creates the role `ROLE` names in the server's bootstrap account, trusted by Lambda (CreateFunction refuses a role
 * Lambda cannot assume) and allowed `actions` (none by default): what a test needs before it creates a function.
 */
export async function createTestFunctionRole(server: TestServer, actions: string[] = []): Promise<void> {
  const policy = actions.length > 0 ? { Version: '2012-10-17', Statement: [{ Effect: 'Allow', Action: actions, Resource: '*' }] } : undefined;
  await createRole(server, server.admin, 'coffer-test-function', LAMBDA_TRUST_POLICY, policy);
}

/** A Lambda client signed with the server's administrator key, no retries. */
export function lambdaClient(server: TestServer, options: { region?: string; credentials?: AccessKey } = {}): LambdaClient {
  return new LambdaClient({
    endpoint: server.url,
    region: options.region ?? REGION,
    credentials: options.credentials ?? server.admin,
    maxAttempts: 1,
  });
}

/** A function name no other test in the same server uses. */
export function uniqueFunctionName(label: string): string {
  return `${label}-${randomBytes(4).toString('hex')}`;
}

/** A zip entry: a file's text, a symbolic link to a target, or a copy of a file on disk (binary or text). */
export type ZipEntry = string | { symlinkTo: string } | { copyOf: string };

/**
 * Zip entries copying `names` (files or whole packages) from `dir`, under the same names, without
 * `__pycache__`: a Lambda deployment package bundling libraries installed on this machine.
 */
export function copiesOf(dir: string, names: string[]): Record<string, ZipEntry> {
  const entries: Record<string, ZipEntry> = {};
  const add = (name: string): void => {
    const path = join(dir, name);
    if (!statSync(path).isDirectory()) {
      entries[name] = { copyOf: path };
      return;
    }
    for (const child of readdirSync(path)) if (child !== '__pycache__') add(`${name}/${child}`);
  };
  for (const name of names) add(name);
  return entries;
}

/**
 * Builds a zip with Python's zipfile module, each entry under exactly the name given (so a test can also
 * build a package whose entries try to leave the directory, or are symbolic links), and returns its bytes.
 * A `copyOf` entry keeps the copied file's mode.
 */
export function buildZip(entries: Record<string, ZipEntry>): Buffer {
  const dir = mkdtempSync(join(tmpdir(), 'coffer-zip-'));
  try {
    const out = join(dir, 'package.zip');
    const script = [
      'import json, sys, zipfile',
      'entries = json.load(sys.stdin)',
      "with zipfile.ZipFile(sys.argv[1], 'w', zipfile.ZIP_DEFLATED) as archive:",
      '    for name, entry in entries.items():',
      '        info = zipfile.ZipInfo(name)',
      '        info.compress_type = zipfile.ZIP_DEFLATED',
      "        if isinstance(entry, dict) and 'copyOf' in entry:",
      "            archive.write(entry['copyOf'], name)",
      "        elif isinstance(entry, dict):",
      '            info.create_system = 3',
      '            info.external_attr = 0o120777 << 16',
      "            archive.writestr(info, entry['symlinkTo'])",
      '        else:',
      '            info.external_attr = 0o644 << 16',
      '            archive.writestr(info, entry)',
    ].join('\n');
    execFileSync('python3', ['-c', script, out], { input: JSON.stringify(entries) });
    return readFileSync(out);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** The context an in-process caller (the rotation runner) hands `functions.invoke`. */
export function inProcessContext(options: { region?: string; accountId?: string } = {}): RequestContext {
  const accountId = options.accountId ?? ACCOUNT_ID;
  return {
    requestId: randomUUID(),
    principal: { accountId, arn: `arn:aws:iam::${accountId}:root`, accessKeyId: 'in-process' },
    region: options.region ?? REGION,
    clock: systemClock,
  };
}

export type RestResponse = { status: number; headers: Headers; text: string; json: Record<string, unknown> | undefined };

/**
 * A raw Lambda REST request, signed with the SDK's own SigV4 signer (service `lambda` unless told), so a
 * test controls the method, path and body and still gets past authentication.
 */
export async function restCall(
  endpoint: string,
  options: { method: string; path: string; body?: string | Buffer; credentials?: AccessKey; service?: string; headers?: Record<string, string> },
): Promise<RestResponse> {
  const url = new URL(endpoint);
  const [path, query = ''] = options.path.split('?');
  let headers: Record<string, string> = { 'content-type': 'application/json', ...options.headers };
  if (options.credentials) {
    const signer = new SignatureV4({ credentials: options.credentials, region: REGION, service: options.service ?? 'lambda', sha256: NodeSha256 });
    const request = new HttpRequest({
      method: options.method,
      protocol: url.protocol,
      hostname: url.hostname,
      port: Number(url.port),
      path: path!,
      query: Object.fromEntries(new URLSearchParams(query)),
      headers: { ...headers, host: url.host },
      body: options.body,
    });
    const signed = (await signer.sign(request)) as HttpRequest;
    const { host: _host, ...rest } = signed.headers;
    headers = rest;
  }
  const response = await fetch(new URL(options.path, endpoint), {
    method: options.method,
    headers,
    body: options.body === undefined ? undefined : (options.body as unknown as BodyInit),
  });
  const text = await response.text();
  let json: Record<string, unknown> | undefined;
  try {
    json = JSON.parse(text) as Record<string, unknown>;
  } catch {
    json = undefined;
  }
  return { status: response.status, headers: response.headers, text, json };
}

/**
 * Whether a process with this id is still running. A zombie (dead, not yet reaped, which happens to orphans
 * in a container whose init does not reap) counts as dead.
 */
export function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3) !== 'Z';
  } catch {
    return false;
  }
}

/** The AWS CLI's major version: v2 needs `--cli-binary-format raw-in-base64-out` for a JSON --payload, v1 refuses it. */
export function awsCliMajorVersion(): number {
  // v1 prints its version on stderr, v2 on stdout.
  const result = spawnSync('aws', ['--version'], { encoding: 'utf8' });
  const output = `${result.stdout ?? ''}${result.stderr ?? ''}`;
  const match = /aws-cli\/(\d+)\./.exec(output);
  return match ? Number(match[1]) : 1;
}
