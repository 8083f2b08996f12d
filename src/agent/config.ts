import { readFileSync } from 'node:fs';
import { isIP } from 'node:net';
import { parseToml, TomlError, type TomlValue } from './toml.js';

/**
 * The configuration of `coffer agent`: the AWS Secrets Manager Agent's TOML file, same keys, defaults and
 * ranges (https://docs.aws.amazon.com/secretsmanager/latest/userguide/secrets-manager-agent.html, "Configure
 * the Secrets Manager Agent"), plus two keys of Coffer's own (`max_stale_seconds`, `endpoint_url`).
 */
export type AgentLogLevel = 'debug' | 'info' | 'warn' | 'error' | 'none';

export type AgentConfig = {
  logLevel: AgentLogLevel;
  /** Always a loopback address: the agent answers the applications of its own host only. */
  httpAddress: string;
  httpPort: number;
  ttlSeconds: number;
  cacheSize: number;
  ssrfHeaders: string[];
  ssrfEnvVariables: string[];
  pathPrefix: string;
  maxConn: number;
  region: string | undefined;
  /** The Agent's `ignore_transient_errors`: serve the cached value while Secrets Manager is unreachable. */
  ignoreTransientErrors: boolean;
  /** How long past its TTL a value may be served while Secrets Manager is unreachable (Coffer's key). */
  maxStaleSeconds: number;
  /** Secrets Manager's URL (Coffer's key); without it the SDK's resolution (AWS_ENDPOINT_URL, profile) decides. */
  endpointUrl: string | undefined;
};

export class AgentConfigError extends Error {
  override name = 'AgentConfigError';
}

export const AGENT_DEFAULTS: AgentConfig = {
  logLevel: 'info',
  httpAddress: '127.0.0.1',
  httpPort: 2773,
  ttlSeconds: 300,
  cacheSize: 1000,
  ssrfHeaders: ['X-Aws-Parameters-Secrets-Token', 'X-Vault-Token'],
  ssrfEnvVariables: ['AWS_TOKEN', 'AWS_SESSION_TOKEN', 'AWS_CONTAINER_AUTHORIZATION_TOKEN'],
  pathPrefix: '/v1/',
  maxConn: 800,
  region: undefined,
  ignoreTransientErrors: true,
  maxStaleSeconds: 900,
  endpointUrl: undefined,
};

type KeyReader = (value: TomlValue, key: string) => Partial<AgentConfig>;

/** Each key the file may set, and how its value becomes configuration. */
const KEYS: Record<string, KeyReader> = {
  log_level: (value, key) => {
    const level = text(value, key).toLowerCase();
    if (!['debug', 'info', 'warn', 'error', 'none'].includes(level)) throw new AgentConfigError(`${key} must be one of DEBUG, INFO, WARN, ERROR, NONE`);
    return { logLevel: level as AgentLogLevel };
  },
  http_address: (value, key) => ({ httpAddress: loopbackAddress(text(value, key), key) }),
  http_port: (value, key) => ({ httpPort: port(value, key) }),
  ttl_seconds: (value, key) => ({ ttlSeconds: integer(value, key, 0, 3600) }),
  cache_size: (value, key) => ({ cacheSize: integer(value, key, 1, 1000) }),
  ssrf_headers: (value, key) => ({ ssrfHeaders: nonEmptyList(value, key) }),
  ssrf_env_variables: (value, key) => ({ ssrfEnvVariables: nonEmptyList(value, key) }),
  path_prefix: (value, key) => {
    const prefix = text(value, key);
    if (!prefix.startsWith('/')) throw new AgentConfigError(`${key} must start with /`);
    return { pathPrefix: prefix };
  },
  max_conn: (value, key) => ({ maxConn: integer(value, key, 1, 1000) }),
  region: (value, key) => ({ region: text(value, key) }),
  ignore_transient_errors: (value, key) => ({ ignoreTransientErrors: boolean(value, key) }),
  max_stale_seconds: (value, key) => ({ maxStaleSeconds: integer(value, key, 0, 86_400) }),
  endpoint_url: (value, key) => ({ endpointUrl: url(value, key) }),
  // The Agent writes its log to a file unless told otherwise; Coffer's agent always logs to stderr (a service
  // manager or container runtime keeps it), so the key is accepted and has nothing to change.
  log_to_file: (value, key) => (boolean(value, key), {}),
  // The Agent checks its credentials with STS GetCallerIdentity at start-up; Coffer's agent finds out on the
  // first request instead (its error names the cause), so the key is accepted and has nothing to change.
  validate_credentials: (value, key) => (boolean(value, key), {}),
};

/** The defaults, then the file (if any), then the command line's overrides. */
export function loadAgentConfig(file: string | undefined, overrides: Partial<AgentConfig> = {}): AgentConfig {
  const fromFile = file === undefined ? {} : readConfigFile(file);
  const config = { ...AGENT_DEFAULTS, ...fromFile, ...definedOnly(overrides) };
  config.httpAddress = loopbackAddress(config.httpAddress, 'the bind address');
  return config;
}

function readConfigFile(file: string): Partial<AgentConfig> {
  let document: Record<string, TomlValue>;
  try {
    document = parseToml(readFileSync(file, 'utf8'));
  } catch (error) {
    if (error instanceof TomlError) throw new AgentConfigError(`${file}: ${error.message}`);
    throw new AgentConfigError(`cannot read ${file}: ${(error as Error).message}`);
  }
  let config: Partial<AgentConfig> = {};
  for (const [key, value] of Object.entries(document)) {
    const reader = KEYS[key];
    // As the Agent: a misspelt key is an error, not a silently ignored setting.
    if (!reader) throw new AgentConfigError(`${file}: unknown configuration key ${key} (known: ${Object.keys(KEYS).join(', ')})`);
    try {
      config = { ...config, ...reader(value, key) };
    } catch (error) {
      throw new AgentConfigError(`${file}: ${(error as Error).message}`);
    }
  }
  return config;
}

/**
 * A loopback address to bind to, or an error: the agent serves secrets to whoever holds the token and can
 * reach the port, so it must not be reachable from another host.
 */
export function loopbackAddress(address: string, what: string): string {
  if (address === 'localhost') return '127.0.0.1';
  const version = isIP(address);
  if (version === 4 && address.startsWith('127.')) return address;
  if (version === 6 && (address === '::1' || address === '0:0:0:0:0:0:0:1')) return '::1';
  throw new AgentConfigError(`${what} must be a loopback address (127.0.0.1, ::1 or localhost), not ${address}: the agent answers only its own host`);
}

function definedOnly<T extends object>(values: T): Partial<T> {
  return Object.fromEntries(Object.entries(values).filter(([, value]) => value !== undefined)) as Partial<T>;
}

function text(value: TomlValue, key: string): string {
  if (typeof value !== 'string') throw new AgentConfigError(`${key} must be a string`);
  return value;
}

function boolean(value: TomlValue, key: string): boolean {
  if (typeof value !== 'boolean') throw new AgentConfigError(`${key} must be true or false`);
  return value;
}

/** A whole number from minimum to maximum, written as a TOML integer or a string (the Agent accepts both). */
function integer(value: TomlValue, key: string, minimum: number, maximum: number): number {
  const number = typeof value === 'string' && /^\d+$/.test(value) ? Number(value) : value;
  if (typeof number !== 'number' || !Number.isInteger(number) || number < minimum || number > maximum) {
    throw new AgentConfigError(`${key} must be a whole number from ${minimum} to ${maximum}`);
  }
  return number;
}

/** The Agent's range: 1024 to 65535; 0 (any free port) is allowed as well. */
export function port(value: TomlValue, key: string): number {
  const number = integer(value, key, 0, 65_535);
  if (number !== 0 && number < 1024) throw new AgentConfigError(`${key} must be from 1024 to 65535 (or 0 for any free port)`);
  return number;
}

function nonEmptyList(value: TomlValue, key: string): string[] {
  if (!Array.isArray(value) || value.length === 0 || !value.every((item) => typeof item === 'string' && item.length > 0)) {
    throw new AgentConfigError(`${key} must be a non-empty list of names`);
  }
  return value as string[];
}

function url(value: TomlValue, key: string): string {
  const candidate = text(value, key);
  if (!URL.canParse(candidate) || !/^https?:$/.test(new URL(candidate).protocol)) throw new AgentConfigError(`${key} must be an http(s) URL`);
  return candidate;
}

/**
 * The token requests must carry, as the Agent finds it: the first of `variables` that is set; a value
 * `file://PATH` names a file holding the token (surrounding whitespace trimmed).
 */
export function resolveToken(variables: readonly string[], env: NodeJS.ProcessEnv = process.env): string {
  const name = variables.find((variable) => env[variable] !== undefined);
  if (name === undefined) throw new AgentConfigError(`no token: set one of ${variables.join(', ')} (the value, or file://PATH of a file holding it)`);
  const value = env[name]!;
  let token = value;
  if (value.startsWith('file://')) {
    const path = value.slice('file://'.length);
    try {
      token = readFileSync(path, 'utf8').trim();
    } catch (error) {
      throw new AgentConfigError(`cannot read the token file ${path} named by ${name}: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`);
    }
  }
  // An empty token would let a request with an empty header through: refuse to start instead.
  if (token.length === 0) throw new AgentConfigError(`the token from ${name} is empty`);
  return token;
}
