import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { constants } from 'node:os';
import type { Command } from 'commander';
import { SecretsManagerClients, type ClientOptions } from '../aws-clients.js';
import { EnvFileError, parseEnvFile, type EnvFileEntry } from '../env-file.js';
import { environmentName, findDynamicReferences, parseValueFrom, ReferenceSyntaxError, type SecretReference } from '../secret-references.js';
import { reasonOf, renderTemplate, resolutionFailure, ResolutionError, SecretResolver, type ResolvedVersion } from '../secret-resolver.js';
import { checkForNewVersions } from '../secret-watch.js';

/**
 * `coffer run [--secret NAME=REF]… [--all-from PREFIX]… [--env-file FILE]… [--watch[=MODE]] -- COMMAND ARGS…`
 * (docs/ARCHITECTURE.md, "coffer run and coffer render"): resolve every secret first, then start COMMAND
 * (no shell) with them added to Coffer's own environment; forward signals; exit with COMMAND's exit code, or
 * 128 + the number of the signal that ended it. Nothing is started when any reference fails; values are never
 * printed, logged or written anywhere but into the child's environment.
 */

type RunOptions = ClientOptions & {
  secret: string[];
  allFrom: string[];
  envFile: string[];
  watch?: string | true;
  watchInterval: string;
  stopTimeout: string;
};

/** How --watch reacts to a rotation: start the child again with the new values, or send it a signal. */
type WatchMode = { kind: 'restart' } | { kind: 'signal'; signal: NodeJS.Signals };

/** One variable Coffer sets, and where it came from (collision messages name both origins). */
type Assignment = { name: string; origin: string };

/** Signals a supervisor passes on: the child decides what they mean. */
const FORWARDED_SIGNALS: NodeJS.Signals[] = ['SIGINT', 'SIGTERM', 'SIGHUP', 'SIGQUIT', 'SIGUSR1', 'SIGUSR2', 'SIGWINCH'];

export function registerRunCommand(program: Command): void {
  program
    .command('run')
    .description('start a command with secrets from Secrets Manager in its environment')
    .argument('<command...>', 'the command and its arguments, after --')
    .option(
      '--secret <NAME=REF>',
      'set NAME to a secret: REF in ECS valueFrom form, a name or ARN with optional :json-key:version-stage:version-id (repeatable)',
      collect,
      [],
    )
    .option('--all-from <prefix>', 'set every key of every JSON secret whose name starts with prefix, as SECRET_NAME_KEY upper-cased (repeatable)', collect, [])
    .option('--env-file <file>', 'set the NAME=VALUE lines of a dotenv file; values may hold {{resolve:secretsmanager:...}} references (repeatable)', collect, [])
    .option('--watch [mode]', 'when a secret used rotates: "restart" the command (default) or "signal:SIGHUP" (any signal) it')
    .option('--watch-interval <seconds>', 'seconds between --watch checks (DescribeSecret per secret)', '30')
    .option('--stop-timeout <seconds>', 'on a --watch restart, seconds to wait after SIGTERM before SIGKILL', '10')
    .option('--region <region>', 'Region for secrets named without an ARN (default: the AWS SDK chain: AWS_REGION, the profile)')
    .option('--endpoint-url <url>', "Coffer's URL (default: AWS_ENDPOINT_URL_SECRETS_MANAGER, AWS_ENDPOINT_URL, the profile's endpoint_url)")
    .option('--profile <name>', 'shared config/credentials profile (default: AWS_PROFILE)')
    .action(async (command: string[], options: RunOptions) => {
      try {
        await run(command, options);
      } catch (error) {
        if (error instanceof UsageError || error instanceof ResolutionError || error instanceof ReferenceSyntaxError || error instanceof EnvFileError) {
          fail(error.message);
        }
        throw error;
      }
    });
}

/** A plan of what to resolve, checked before any request: every usage and syntax error at once, offline. */
type Plan = {
  secrets: Array<{ name: string; reference: SecretReference }>;
  allFrom: string[];
  envEntries: EnvFileEntry[];
};

async function run([command, ...args]: string[], options: RunOptions): Promise<void> {
  const plan = planFrom(options);
  const watch = watchModeFrom(options.watch);
  const intervalMs = seconds(options.watchInterval, '--watch-interval', 1) * 1000;
  const stopTimeoutMs = seconds(options.stopTimeout, '--stop-timeout', 0) * 1000;
  // The child's environment is Coffer's as it was given, before the SDK's settings below touch process.env.
  const baseEnvironment = { ...process.env };
  const clients = await SecretsManagerClients.open(options);
  let resolved: Resolved;
  try {
    resolved = await resolveEnvironment(plan, clients);
  } catch (error) {
    clients.close();
    throw error;
  }
  if (watch === undefined) clients.close();
  supervise(command!, args, baseEnvironment, resolved, watch === undefined ? undefined : { mode: watch, intervalMs, stopTimeoutMs, plan, clients });
}

function planFrom(options: RunOptions): Plan {
  const problems: string[] = [];
  /** Runs `check`, noting its usage or syntax error instead of stopping at the first one. */
  const noting = <T>(check: () => T): T | undefined => {
    try {
      return check();
    } catch (error) {
      if (error instanceof UsageError || error instanceof ReferenceSyntaxError || error instanceof EnvFileError) problems.push(error.message);
      else throw error;
      return undefined;
    }
  };
  const origins = new Map<string, string>();
  const claim = ({ name, origin }: Assignment) => {
    const earlier = origins.get(name);
    if (earlier !== undefined) throw new UsageError(`${name} is set twice: by ${earlier} and by ${origin}`);
    origins.set(name, origin);
  };
  const secrets = options.secret.flatMap((spec) => {
    const parsed = noting(() => {
      const equals = spec.indexOf('=');
      const name = equals === -1 ? '' : spec.slice(0, equals);
      if (!isVariableName(name)) throw new UsageError(`--secret ${spec}: expected NAME=REF, NAME being letters, digits and _ (not starting with a digit)`);
      claim({ name, origin: `--secret ${name}` });
      try {
        return { name, reference: parseValueFrom(spec.slice(equals + 1)) };
      } catch (error) {
        throw error instanceof ReferenceSyntaxError ? new UsageError(`--secret ${name}=${error.message}`) : error;
      }
    });
    return parsed ? [parsed] : [];
  });
  const envEntries = options.envFile.flatMap((file) => {
    const entries = noting(() => {
      let text: string;
      try {
        text = readFileSync(file, 'utf8');
      } catch (error) {
        throw new UsageError(`--env-file ${file}: ${(error as NodeJS.ErrnoException).code ?? String(error)}`);
      }
      return parseEnvFile(text, file);
    });
    for (const entry of entries ?? []) {
      noting(() => claim(entry));
      noting(() => findDynamicReferences(entry.value)); // syntax (and Parameter Store) errors now, before any request
    }
    return entries ?? [];
  });
  for (const prefix of options.allFrom) {
    if (prefix === '' || prefix.startsWith('!')) problems.push(`--all-from "${prefix}": give a name prefix (not empty, not starting with !)`);
  }
  if (problems.length > 0) throw new UsageError(problems.join('\n'));
  return { secrets, allFrom: options.allFrom, envEntries };
}

type Resolved = { variables: Record<string, string>; versions: ResolvedVersion[] };

/**
 * Every variable's value, or a ResolutionError naming every reference that failed (all of them, so a user
 * fixes a command line in one go). --all-from names are checked against each other and the others here.
 */
async function resolveEnvironment(plan: Plan, clients: SecretsManagerClients): Promise<Resolved> {
  const resolver = new SecretResolver(clients);
  const failures: string[] = [];
  const variables: Record<string, string> = {};
  const origins = new Map<string, string>();
  const set = (name: string, value: string, origin: string) => {
    const earlier = origins.get(name);
    if (earlier !== undefined) failures.push(`${name} is set twice: by ${earlier} and by ${origin}`);
    else if (value.includes('\0')) failures.push(`${origin}: the value contains a NUL character, which an environment variable cannot hold`);
    origins.set(name, origin);
    variables[name] = value;
  };
  await Promise.all([
    ...plan.secrets.map(async ({ name, reference }) => {
      try {
        set(name, await resolver.resolve(reference), `--secret ${name}`);
      } catch (error) {
        failures.push(`--secret ${name}=${reasonOf(error)}`);
      }
    }),
    ...plan.envEntries.map(async (entry) => {
      try {
        set(entry.name, await renderTemplate(entry.value, resolver), entry.origin);
      } catch (error) {
        failures.push(`${entry.origin} (${entry.name}): ${reasonOf(error)}`);
      }
    }),
    ...plan.allFrom.map(async (prefix) => {
      try {
        for (const [name, value, origin] of await allFromPrefix(prefix, resolver)) set(name, value, origin);
      } catch (error) {
        failures.push(reasonOf(error));
      }
    }),
  ]);
  if (failures.length > 0) throw resolutionFailure(failures.sort());
  return { variables, versions: resolver.versions() };
}

/** `--all-from PREFIX`: [variable, value, origin] for every key of every JSON secret under the prefix. */
async function allFromPrefix(prefix: string, resolver: SecretResolver): Promise<Array<[string, string, string]>> {
  const secrets = await resolver.listByPrefix(prefix);
  const perSecret = await Promise.all(
    secrets.map(async (secret) => {
      const entries = await resolver.jsonEntries(secret.arn, undefined);
      if (entries === undefined) {
        process.stderr.write(`coffer run: --all-from ${prefix}: ${secret.name} is not a JSON object; skipped\n`);
        return [];
      }
      return entries.map(([key, value]): [string, string, string] => [environmentName(secret.name, key), value, `--all-from ${prefix} (${secret.name} key ${key})`]);
    }),
  );
  return perSecret.flat();
}

type Watch = { mode: WatchMode; intervalMs: number; stopTimeoutMs: number; plan: Plan; clients: SecretsManagerClients };

/**
 * Starts the child and stays with it: forwards signals, ends with its exit status, and under --watch checks
 * for rotations and restarts or signals it. A restart whose new values cannot be resolved keeps the running
 * child (and says why on stderr); the next check tries again.
 */
function supervise(command: string, args: string[], baseEnvironment: NodeJS.ProcessEnv, resolved: Resolved, watch: Watch | undefined): void {
  let child: ChildProcess;
  let replacing = false;
  let finished = false;
  let versions = resolved.versions;
  let timer: NodeJS.Timeout | undefined;

  const finish = (exitCode: number) => {
    if (finished) return;
    finished = true;
    if (timer) clearTimeout(timer);
    watch?.clients.close();
    process.exitCode = exitCode;
    // Nothing else may keep Coffer alive after its child is gone (a pending check, the SDK's sockets).
    setImmediate(() => process.exit(exitCode));
  };

  const start = (variables: Record<string, string>) => {
    const started = spawn(command, args, { stdio: 'inherit', env: { ...baseEnvironment, ...variables } });
    started.on('error', (error: NodeJS.ErrnoException) => {
      if (started !== child) return;
      process.stderr.write(`coffer run: cannot start ${command}: ${error.code === 'ENOENT' ? 'command not found' : (error.code ?? error.message)}\n`);
      finish(error.code === 'ENOENT' ? 127 : 126);
    });
    started.on('exit', (code, signal) => {
      if (started !== child || replacing) return;
      finish(exitStatus(code, signal));
    });
    child = started;
  };

  // After SIGINT, SIGTERM or SIGQUIT the user wants the command gone: a --watch restart must not bring it back.
  let terminating = false;
  for (const signal of FORWARDED_SIGNALS) {
    process.on(signal, () => {
      if (signal === 'SIGINT' || signal === 'SIGTERM' || signal === 'SIGQUIT') terminating = true;
      if (child.exitCode === null && child.signalCode === null) child.kill(signal);
    });
  }
  start(resolved.variables);
  if (watch === undefined) return;

  const check = async () => {
    const outcome = await checkForNewVersions(watch.clients, versions);
    if (finished) return;
    if (outcome.kind === 'failed') {
      process.stderr.write(`coffer run: --watch: could not check for rotations: ${outcome.reason}\n`);
      return;
    }
    if (outcome.kind === 'unchanged') return;
    if (watch.mode.kind === 'signal') {
      process.stderr.write(`coffer run: --watch: ${outcome.secrets.join(', ')} changed; sending ${watch.mode.signal}\n`);
      versions = outcome.versions;
      child.kill(watch.mode.signal);
      return;
    }
    let fresh: Resolved;
    try {
      fresh = await resolveEnvironment(watch.plan, watch.clients);
    } catch (error) {
      process.stderr.write(`coffer run: --watch: ${outcome.secrets.join(', ')} changed, but the new values could not be resolved; keeping the running command:\n${reasonOf(error)}\n`);
      return;
    }
    if (finished || terminating) return;
    process.stderr.write(`coffer run: --watch: ${outcome.secrets.join(', ')} changed; restarting ${command}\n`);
    replacing = true;
    const stopped = await stopChild(child, watch.stopTimeoutMs);
    replacing = false;
    if (terminating) return finish(stopped);
    if (finished) return;
    versions = fresh.versions;
    start(fresh.variables);
  };
  const schedule = () => {
    timer = setTimeout(() => {
      check().then(
        () => !finished && schedule(),
        (error: unknown) => {
          process.stderr.write(`coffer run: --watch: ${error instanceof Error ? error.message : String(error)}\n`);
          if (!finished) schedule();
        },
      );
    }, watch.intervalMs);
  };
  schedule();
}

/** SIGTERM, then SIGKILL after `timeoutMs`; resolves with the exit status (128 + signal) once the child has exited. */
function stopChild(child: ChildProcess, timeoutMs: number): Promise<number> {
  const status = () => exitStatus(child.exitCode, child.signalCode);
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve(status());
  return new Promise((resolve) => {
    const kill = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.once('exit', () => {
      clearTimeout(kill);
      resolve(status());
    });
    child.kill('SIGTERM');
  });
}

/** A shell's convention: the exit code, or 128 + the number of the signal that ended the process. */
function exitStatus(code: number | null, signal: NodeJS.Signals | null): number {
  return code ?? 128 + (signal ? (constants.signals[signal] ?? 0) : 0);
}

function watchModeFrom(value: string | true | undefined): WatchMode | undefined {
  if (value === undefined) return undefined;
  if (value === true || value === 'restart') return { kind: 'restart' };
  const signal = value.startsWith('signal:') ? value.slice('signal:'.length) : '';
  if (signal in constants.signals && signal !== 'SIGKILL' && signal !== 'SIGSTOP') return { kind: 'signal', signal: signal as NodeJS.Signals };
  throw new UsageError(`--watch ${value}: expected "restart" or "signal:NAME" (for example signal:SIGHUP)`);
}

function seconds(text: string, flag: string, minimum: number): number {
  const value = Number(text);
  if (!/^\d+(\.\d+)?$/.test(text) || value < minimum || value > 86400) throw new UsageError(`${flag} must be a number of seconds from ${minimum} to 86400`);
  return value;
}

function isVariableName(name: string): boolean {
  return /^[A-Za-z_][A-Za-z0-9_]*$/.test(name);
}

function collect(value: string, previous: string[]): string[] {
  return [...previous, value];
}

class UsageError extends Error {}

function fail(message: string): never {
  process.stderr.write(`coffer run: ${message}\n`);
  process.exit(1);
}
