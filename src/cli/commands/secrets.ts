/**
 * @module cli
 * `coffer secrets list|get|put|describe|versions|rotate|delete|restore` (docs/ARCHITECTURE.md, "CLI for people"):
 * Secrets Manager calls against a running server with the AWS SDK, credentials and endpoint resolved as
 * `coffer run` does (aws-clients.ts). Tables for people, `--output json` for the API's answer. A value is
 * printed only by `get`, to stdout; `put` reads it from a flag, a file or stdin and never echoes it.
 */
import { readFileSync } from 'node:fs';
import type { Command } from 'commander';
import type { DescribeSecretResponse, SecretListEntry, SecretVersionsListEntry } from '@aws-sdk/client-secrets-manager';
import { SecretsManagerClients } from '../aws-clients.js';
import { remoteCommandGroup } from '../remote-command.js';
import { registerSecretsTransferCommands } from './secrets-transfer.js';
import {
  formatDate,
  formatFields,
  formatTable,
  printJson,
  UsageError,
  type Cell,
} from '../output.js';



export function registerSecretsCommand(program: Command): void {
  const subcommand = remoteCommandGroup<SecretsManagerClients>(program, {
    name: 'secrets',
    description: 'read and manage secrets on a running Coffer server (Secrets Manager API)',
    endpointHelp: "Coffer's URL (default: AWS_ENDPOINT_URL_SECRETS_MANAGER, AWS_ENDPOINT_URL, the profile's endpoint_url)",
    actionPrefix: 'secretsmanager',
    listCommand: 'coffer secrets list',
    open: (options) => SecretsManagerClients.open(options),
    close: (clients) => clients.close(),
  });

  subcommand('list', 'list secrets (name, last changed, rotation, deletion)', 'ListSecrets', (command) => {
    command.option('--prefix <prefix>', 'only secrets whose name starts with prefix').option('--all', 'include secrets scheduled for deletion');
    return (options: { prefix?: string; all?: boolean }) => async (clients, format) => {
      const sdk = clients.sdk;
      const entries: SecretListEntry[] = [];
      let nextToken: string | undefined;
      do {
        const page = await clients.client().send(
          new sdk.ListSecretsCommand({
            NextToken: nextToken,
            MaxResults: 100,
            IncludePlannedDeletion: options.all === true ? true : undefined,
            Filters: options.prefix === undefined ? undefined : [{ Key: 'name', Values: [options.prefix] }],
          }),
        );
        entries.push(...(page.SecretList ?? []));
        nextToken = page.NextToken;
      } while (nextToken !== undefined);
      if (format === 'json') return printJson({ SecretList: entries });
      const rows = entries.map((entry): Cell[] => [
        entry.Name ?? '',
        formatDate(entry.LastChangedDate ?? entry.CreatedDate),
        entry.RotationEnabled ? { text: 'on', colour: 'green' } : 'off',
        entry.DeletedDate === undefined ? '' : { text: `deleted ${formatDate(entry.DeletedDate)}`, colour: 'red' },
        entry.Description ?? '',
      ]);
      process.stdout.write(formatTable(['NAME', 'LAST CHANGED', 'ROTATION', 'STATE', 'DESCRIPTION'], rows));
    };
  });

  subcommand('get', "print a secret's value to stdout (the only command that prints one)", 'GetSecretValue', (command) => {
    command
      .argument('<name>', 'name or ARN')
      .option('--stage <stage>', 'version stage (default AWSCURRENT)')
      .option('--version-id <id>', 'version id')
      .option('--json-key <key>', 'print one key of a JSON value');
    return (name: string, options: { stage?: string; versionId?: string; jsonKey?: string }) => async (clients, format) => {
      if (options.jsonKey !== undefined && format === 'json') throw new UsageError('--json-key and --output json do not go together');
      const answer = await clients
        .client()
        .send(new clients.sdk.GetSecretValueCommand({ SecretId: name, VersionStage: options.stage, VersionId: options.versionId }));
      if (format === 'json') return printJson(answer);
      if (options.jsonKey !== undefined) return process.stdout.write(jsonKeyOf(answer.SecretString, options.jsonKey, name) + '\n') as unknown as void;
      if (answer.SecretString !== undefined) process.stdout.write(answer.SecretString + '\n');
      else if (answer.SecretBinary !== undefined) process.stdout.write(answer.SecretBinary);
    };
  });

  subcommand('put', 'store a new value: creates the secret when absent, a new AWSCURRENT version otherwise', 'PutSecretValue', (command) => {
    command
      .argument('<name>', 'name (or ARN, for an existing secret)')
      .option('--value <value>', 'the value (visible in `ps` and shell history: prefer --from-file or --stdin)')
      .option('--from-file <file>', 'read the value from a file')
      .option('--stdin', 'read the value from stdin')
      .option('--description <text>', 'description, when the secret is created');
    return (name: string, options: { value?: string; fromFile?: string; stdin?: boolean; description?: string }) => async (clients, format) => {
      const value = readValue(options);
      const sdk = clients.sdk;
      let answer: { ARN?: string; Name?: string; VersionId?: string };
      let created = false;
      try {
        answer = await clients.client().send(new sdk.PutSecretValueCommand({ SecretId: name, SecretString: value }));
      } catch (error) {
        if (!(error instanceof Error) || error.name !== 'ResourceNotFoundException') throw error;
        answer = await clients.client().send(new sdk.CreateSecretCommand({ Name: name, SecretString: value, Description: options.description }));
        created = true;
      }
      if (format === 'json') return printJson(answer);
      process.stdout.write(created ? `created ${answer.Name} (version ${answer.VersionId})\n` : `stored version ${answer.VersionId} of ${answer.Name} as AWSCURRENT\n`);
    };
  });

  subcommand('describe', "show a secret's details (never its value)", 'DescribeSecret', (command) => {
    command.argument('<name>', 'name or ARN');
    return (name: string) => async (clients, format) => {
      const answer = await clients.client().send(new clients.sdk.DescribeSecretCommand({ SecretId: name }));
      if (format === 'json') return printJson(answer);
      process.stdout.write(describeFields(answer));
    };
  });

  subcommand('versions', "list a secret's versions and their stages", 'ListSecretVersionIds', (command) => {
    command.argument('<name>', 'name or ARN');
    return (name: string) => async (clients, format) => {
      const versions: SecretVersionsListEntry[] = [];
      let nextToken: string | undefined;
      let last: { ARN?: string; Name?: string } = {};
      do {
        const page = await clients.client().send(new clients.sdk.ListSecretVersionIdsCommand({ SecretId: name, IncludeDeprecated: true, NextToken: nextToken }));
        versions.push(...(page.Versions ?? []));
        last = page;
        nextToken = page.NextToken;
      } while (nextToken !== undefined);
      if (format === 'json') return printJson({ ARN: last.ARN, Name: last.Name, Versions: versions });
      const rows = versions.map((version): Cell[] => [
        version.VersionId ?? '',
        { text: (version.VersionStages ?? []).join(',') || '(deprecated)', colour: version.VersionStages?.includes('AWSCURRENT') ? 'green' : undefined },
        formatDate(version.CreatedDate),
        formatDate(version.LastAccessedDate),
      ]);
      process.stdout.write(formatTable(['VERSION ID', 'STAGES', 'CREATED', 'LAST ACCESSED'], rows));
    };
  });

  subcommand('rotate', "start a rotation with the secret's rotation function", 'RotateSecret', (command) => {
    command.argument('<name>', 'name or ARN');
    return (name: string) => async (clients, format) => {
      const answer = await clients.client().send(new clients.sdk.RotateSecretCommand({ SecretId: name }));
      if (format === 'json') return printJson(answer);
      process.stdout.write(`rotation of ${answer.Name} started: new version ${answer.VersionId}\n`);
    };
  });

  subcommand('delete', 'schedule a secret for deletion (restorable until then), or delete it now with --force', 'DeleteSecret', (command) => {
    command
      .argument('<name>', 'name or ARN')
      .option('--recovery-days <days>', 'days before the deletion, 7 to 30 (default 30)')
      .option('--force', 'delete now, without recovery');
    return (name: string, options: { recoveryDays?: string; force?: boolean }) => async (clients, format) => {
      if (options.force && options.recoveryDays !== undefined) throw new UsageError('--recovery-days and --force do not go together');
      const recoveryDays = options.recoveryDays === undefined ? undefined : wholeNumber(options.recoveryDays, '--recovery-days');
      const answer = await clients.client().send(
        new clients.sdk.DeleteSecretCommand({
          SecretId: name,
          RecoveryWindowInDays: recoveryDays,
          ForceDeleteWithoutRecovery: options.force === true ? true : undefined,
        }),
      );
      if (format === 'json') return printJson(answer);
      process.stdout.write(
        options.force
          ? `deleted ${answer.Name} (no recovery)\n`
          : `${answer.Name} will be deleted on ${formatDate(answer.DeletionDate)}; until then \`coffer secrets restore ${answer.Name}\` brings it back\n`,
      );
    };
  });

  subcommand('restore', 'cancel the scheduled deletion of a secret', 'RestoreSecret', (command) => {
    command.argument('<name>', 'name or ARN');
    return (name: string) => async (clients, format) => {
      const answer = await clients.client().send(new clients.sdk.RestoreSecretCommand({ SecretId: name }));
      if (format === 'json') return printJson(answer);
      process.stdout.write(`restored ${answer.Name}\n`);
    };
  });
  registerSecretsTransferCommands(subcommand);
}

function readValue(options: { value?: string; fromFile?: string; stdin?: boolean }): string {
  const given = [options.value !== undefined, options.fromFile !== undefined, options.stdin === true].filter(Boolean).length;
  if (given !== 1) throw new UsageError('give the value exactly one way: --value V, --from-file FILE or --stdin');
  if (options.value !== undefined) return options.value;
  // File and stdin are read whole and unchanged: a trailing newline is part of the value, as with the AWS CLI's file://.
  try {
    return readFileSync(options.fromFile ?? 0, 'utf8');
  } catch (error) {
    throw new UsageError(`cannot read ${options.fromFile ?? 'stdin'}: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`);
  }
}

/** One key of a JSON value: strings as they are, other JSON values as JSON. The error never quotes the value. */
function jsonKeyOf(secretString: string | undefined, key: string, name: string): string {
  let parsed: unknown;
  try {
    parsed = JSON.parse(secretString ?? '');
  } catch {
    throw new UsageError(`--json-key ${key}: the value of ${name} is not a JSON object`);
  }
  if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) throw new UsageError(`--json-key ${key}: the value of ${name} is not a JSON object`);
  if (!Object.hasOwn(parsed, key)) throw new UsageError(`--json-key ${key}: the value of ${name} has no key "${key}"`);
  const value = (parsed as Record<string, unknown>)[key];
  return typeof value === 'string' ? value : JSON.stringify(value);
}

function describeFields(secret: DescribeSecretResponse): string {
  const stages = Object.entries(secret.VersionIdsToStages ?? {}).map(([versionId, stageNames]) => `${versionId} (${stageNames.join(',')})`);
  const rules = secret.RotationRules;
  return formatFields([
    ['Name', secret.Name],
    ['ARN', secret.ARN],
    ['Description', secret.Description],
    ['KMS key', secret.KmsKeyId ?? 'aws/secretsmanager (default)'],
    ['Created', formatDate(secret.CreatedDate)],
    ['Last changed', formatDate(secret.LastChangedDate)],
    ['Last accessed', formatDate(secret.LastAccessedDate)],
    ['Rotation', secret.RotationEnabled ? { text: 'on', colour: 'green' } : 'off'],
    ['Rotation function', secret.RotationLambdaARN],
    ['Rotation schedule', rules?.ScheduleExpression ?? (rules?.AutomaticallyAfterDays === undefined ? undefined : `every ${rules.AutomaticallyAfterDays} days`)],
    ['Last rotated', formatDate(secret.LastRotatedDate)],
    ['Deleted', secret.DeletedDate === undefined ? undefined : { text: `scheduled for deletion (${formatDate(secret.DeletedDate)})`, colour: 'red' }],
    ['Tags', (secret.Tags ?? []).map((tag) => `${tag.Key}=${tag.Value}`).join(', ')],
    ['Versions', stages.join('\n' + ' '.repeat('Rotation schedule:'.length + 1))],
  ]);
}

function wholeNumber(text: string, flag: string): number {
  if (!/^\d+$/.test(text)) throw new UsageError(`${flag} ${text}: expected a whole number`);
  return Number(text);
}
