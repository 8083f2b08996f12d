import { z } from 'zod';
import { Sensitive } from '../../core/index.js';
import { RotatorError } from './errors.js';

/**
 * The JSON a database secret holds, as AWS's RDS rotation templates expect it:
 * `{engine, host, port, username, password, dbname, masterarn?, ssl?}`.
 * https://docs.aws.amazon.com/secretsmanager/latest/userguide/reference_secret_json_structure.html
 */

/** How to use TLS, from the secret's optional `ssl` member, read the way the AWS templates read it. */
export type TlsMode = 'require' | 'disable' | 'prefer';

export type DatabaseSecret = {
  engine: string;
  host: string;
  port: number;
  username: string;
  password: Sensitive<string>;
  dbname?: string;
  masterarn?: string;
  tls: TlsMode;
  /** Every member but the password, as stored, so a new version keeps the members Coffer does not read. */
  fields: Record<string, unknown>;
};

/** What one rotator accepts. */
export type SecretRules = {
  /** 'PostgreSQL' or 'MySQL', for messages. */
  engineLabel: string;
  /** Accepted values of `engine`. */
  engines: readonly string[];
  defaultPort: number;
};

const secretJson = z.looseObject({
  engine: z.string().min(1),
  host: z.string().min(1),
  port: z.union([z.number().int().min(1).max(65535), z.string().regex(/^\d{1,5}$/)]).nullish(),
  username: z.string().min(1),
  password: z.string(),
  dbname: z.string().nullish(),
  masterarn: z.string().min(1).nullish(),
});

/**
 * Parses and checks one version's SecretString. `what` names the version in messages ("the AWSCURRENT version
 * of secret X"). A missing or malformed member throws a RotatorError naming the member; no message ever quotes
 * the secret text, since it holds a password (JSON.parse's own message quotes the input, so it is not used).
 */
export function parseDatabaseSecret(
  secretString: Sensitive<string>,
  what: string,
  rules: SecretRules,
  options: { requireMasterArn?: boolean } = {},
): DatabaseSecret {
  let raw: unknown;
  try {
    raw = JSON.parse(secretString.reveal());
  } catch {
    throw new RotatorError(`${what} is not valid JSON; a database secret is a JSON object with engine, host, port, username, password and dbname`);
  }
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) {
    throw new RotatorError(`${what} is not a JSON object; a database secret is a JSON object with engine, host, port, username, password and dbname`);
  }
  const record = raw as Record<string, unknown>;
  const parsed = secretJson.safeParse(record);
  if (!parsed.success) {
    const missing = new Set<string>();
    const invalid = new Set<string>();
    for (const issue of parsed.error.issues) {
      const field = String(issue.path[0] ?? '');
      if (record[field] === undefined || record[field] === null) missing.add(field);
      else invalid.add(field);
    }
    const parts = [
      ...(missing.size ? [`lacks ${[...missing].map((field) => `"${field}"`).join(', ')}`] : []),
      ...(invalid.size ? [`has an invalid ${[...invalid].map((field) => `"${field}"`).join(', ')} (${describeExpected([...invalid])})`] : []),
    ];
    throw new RotatorError(`${what} ${parts.join(' and ')}`);
  }
  const secret = parsed.data;
  if (!rules.engines.includes(secret.engine)) {
    throw new RotatorError(
      `${what} has "engine": ${JSON.stringify(secret.engine)}; this ${rules.engineLabel} rotator needs one of ${rules.engines.map((engine) => `"${engine}"`).join(', ')}`,
    );
  }
  if (options.requireMasterArn && !secret.masterarn) {
    throw new RotatorError(`${what} lacks "masterarn", the ARN of the secret whose user creates the alternate user (alternating-users rotation)`);
  }
  const { password, ...fields } = record;
  void password;
  return {
    engine: secret.engine,
    host: secret.host,
    port: secret.port === undefined || secret.port === null ? rules.defaultPort : Number(secret.port),
    username: secret.username,
    password: new Sensitive(secret.password),
    dbname: secret.dbname ?? undefined,
    masterarn: secret.masterarn ?? undefined,
    tls: tlsMode(record.ssl),
    fields,
  };
}

/** The JSON of a new version: the same members as `base`, with another username and password. */
export function serializeDatabaseSecret(base: DatabaseSecret, username: string, password: Sensitive<string>): Sensitive<string> {
  return new Sensitive(JSON.stringify({ ...base.fields, username, password: password.reveal() }));
}

/** `ssl` true or "true": TLS required; false or "false": no TLS; absent or anything else: TLS first, then plain. */
function tlsMode(ssl: unknown): TlsMode {
  if (typeof ssl === 'boolean') return ssl ? 'require' : 'disable';
  if (typeof ssl === 'string') {
    if (ssl.toLowerCase() === 'true') return 'require';
    if (ssl.toLowerCase() === 'false') return 'disable';
  }
  return 'prefer';
}

const EXPECTED: Record<string, string> = {
  engine: 'a non-empty string',
  host: 'a non-empty string',
  port: 'a port number',
  username: 'a non-empty string',
  password: 'a string',
  dbname: 'a string',
  masterarn: 'a secret ARN',
};

function describeExpected(fields: string[]): string {
  return fields.map((field) => `"${field}" must be ${EXPECTED[field] ?? 'valid'}`).join('; ');
}
