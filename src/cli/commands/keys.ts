/**
 * @module cli
 * `coffer keys list|create|describe|enable|disable|rotate|schedule-deletion|cancel-deletion`
 * (docs/ARCHITECTURE.md, "CLI for people"): KMS calls against a running server with the AWS SDK, credentials,
 * Region and endpoint resolved as `coffer run` resolves them (aws-clients.ts). No key material ever leaves
 * the server, so nothing here prints any.
 */
import type { Command } from 'commander';
import type { KeyMetadata, KMSClient } from '@aws-sdk/client-kms';
import { resolveRegion, type ClientOptions } from '../aws-clients.js';
import { remoteCommandGroup } from '../remote-command.js';
import {
  formatDate,
  formatFields,
  formatTable,
  printJson,
  UsageError,
  type Cell,
  type Colour,
} from '../output.js';

type KmsSdk = typeof import('@aws-sdk/client-kms');
type Kms = { sdk: KmsSdk; client: KMSClient };

export function registerKeysCommand(program: Command): void {
  const subcommand = remoteCommandGroup<Kms>(program, {
    name: 'keys',
    description: 'manage KMS keys on a running Coffer server (KMS API)',
    endpointHelp: "Coffer's URL (default: AWS_ENDPOINT_URL_KMS, AWS_ENDPOINT_URL, the profile's endpoint_url)",
    actionPrefix: 'kms',
    listCommand: 'coffer keys list',
    open: openKms,
    close: (kms) => kms.client.destroy(),
  });

  /** A subcommand taking one KEY and making one call whose answer is printed as JSON or as `done(KEY)`. */
  const simple = (name: string, description: string, action: string, send: (kms: Kms, keyId: string) => Promise<object>, done: (keyId: string) => string) =>
    subcommand(name, description, action, (command) => {
      command.argument('<key>', 'key id, key ARN, alias name or alias ARN');
      return (keyId: string) => async (kms, format) => {
        const answer = await send(kms, keyId);
        if (format === 'json') return printJson(answer);
        process.stdout.write(done(keyId) + '\n');
      };
    });

  subcommand('list', 'list keys (id, state, spec, usage, created, description)', 'ListKeys', () => () => async (kms, format) => {
    const keyIds: string[] = [];
    let marker: string | undefined;
    do {
      const page = await kms.client.send(new kms.sdk.ListKeysCommand({ Marker: marker, Limit: 1000 }));
      keyIds.push(...(page.Keys ?? []).map((key) => key.KeyId!));
      marker = page.Truncated ? page.NextMarker : undefined;
    } while (marker !== undefined);
    // ListKeys names keys only; a person wants their state and description too (one DescribeKey each).
    const described: KeyMetadata[] = [];
    for (const keyId of keyIds) described.push((await kms.client.send(new kms.sdk.DescribeKeyCommand({ KeyId: keyId }))).KeyMetadata!);
    if (format === 'json') return printJson({ Keys: described });
    const rows = described.map((key): Cell[] => [
      key.KeyId ?? '',
      stateCell(key.KeyState),
      key.KeySpec ?? '',
      key.KeyUsage ?? '',
      key.KeyManager ?? '',
      formatDate(key.CreationDate),
      key.Description ?? '',
    ]);
    process.stdout.write(formatTable(['KEY ID', 'STATE', 'SPEC', 'USAGE', 'MANAGER', 'CREATED', 'DESCRIPTION'], rows));
  });

  subcommand('create', 'create a key (default: SYMMETRIC_DEFAULT for ENCRYPT_DECRYPT)', 'CreateKey', (command) => {
    command
      .option('--description <text>', 'description')
      .option('--spec <spec>', 'key spec: SYMMETRIC_DEFAULT, RSA_2048, ECC_NIST_P256, HMAC_256, …')
      .option('--usage <usage>', 'key usage: ENCRYPT_DECRYPT, SIGN_VERIFY, GENERATE_VERIFY_MAC, …');
    return (options: { description?: string; spec?: string; usage?: string }) => async (kms, format) => {
      const answer = await kms.client.send(
        new kms.sdk.CreateKeyCommand({
          Description: options.description,
          KeySpec: options.spec as KeyMetadata['KeySpec'],
          KeyUsage: options.usage as KeyMetadata['KeyUsage'],
        }),
      );
      if (format === 'json') return printJson(answer);
      process.stdout.write(`created key ${answer.KeyMetadata?.KeyId}\n${answer.KeyMetadata?.Arn}\n`);
    };
  });

  subcommand('describe', "show a key's details", 'DescribeKey', (command) => {
    command.argument('<key>', 'key id, key ARN, alias name or alias ARN');
    return (keyId: string) => async (kms, format) => {
      const answer = await kms.client.send(new kms.sdk.DescribeKeyCommand({ KeyId: keyId }));
      if (format === 'json') return printJson(answer);
      process.stdout.write(describeFields(answer.KeyMetadata!));
    };
  });

  simple('enable', 'enable a disabled key', 'EnableKey', (kms, KeyId) => kms.client.send(new kms.sdk.EnableKeyCommand({ KeyId })), (key) => `enabled ${key}`);
  simple('disable', 'disable a key (it refuses cryptographic use until enabled)', 'DisableKey', (kms, KeyId) => kms.client.send(new kms.sdk.DisableKeyCommand({ KeyId })), (key) => `disabled ${key}`);
  simple(
    'rotate',
    'rotate the key material now (RotateKeyOnDemand); older material still decrypts',
    'RotateKeyOnDemand',
    (kms, KeyId) => kms.client.send(new kms.sdk.RotateKeyOnDemandCommand({ KeyId })),
    (key) => `rotation of ${key} started`,
  );

  subcommand('schedule-deletion', 'schedule a key for deletion after a waiting period (cancel with cancel-deletion)', 'ScheduleKeyDeletion', (command) => {
    command.argument('<key>', 'key id or key ARN').option('--days <days>', 'waiting period, 7 to 30 days (default 30)');
    return (keyId: string, options: { days?: string }) => async (kms, format) => {
      if (options.days !== undefined && !/^\d+$/.test(options.days)) throw new UsageError(`--days ${options.days}: expected a whole number`);
      const answer = await kms.client.send(
        new kms.sdk.ScheduleKeyDeletionCommand({ KeyId: keyId, PendingWindowInDays: options.days === undefined ? undefined : Number(options.days) }),
      );
      if (format === 'json') return printJson(answer);
      process.stdout.write(`${keyId} will be deleted on ${formatDate(answer.DeletionDate)}; until then \`coffer keys cancel-deletion ${keyId}\` keeps it\n`);
    };
  });

  simple(
    'cancel-deletion',
    'cancel the scheduled deletion of a key (it comes back disabled)',
    'CancelKeyDeletion',
    (kms, KeyId) => kms.client.send(new kms.sdk.CancelKeyDeletionCommand({ KeyId })),
    (key) => `deletion of ${key} cancelled; the key is disabled: \`coffer keys enable ${key}\` to use it again`,
  );
}

/** The KMS client, the SDK loaded on demand; the Region resolved as SecretsManagerClients resolves it. */
async function openKms(options: ClientOptions): Promise<Kms> {
  process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';
  const sdk = await import('@aws-sdk/client-kms');
  const region = await resolveRegion(options, (config) => new sdk.KMSClient(config));
  return { sdk, client: new sdk.KMSClient({ region, endpoint: options.endpointUrl, profile: options.profile, maxAttempts: 3 }) };
}

const STATE_COLOURS: Record<string, Colour> = { Enabled: 'green', Disabled: 'yellow', PendingDeletion: 'red', PendingImport: 'yellow', Unavailable: 'red' };

function stateCell(state: string | undefined): Cell {
  return { text: state ?? '', colour: state === undefined ? undefined : STATE_COLOURS[state] };
}

function describeFields(key: KeyMetadata): string {
  return formatFields([
    ['Key ID', key.KeyId],
    ['ARN', key.Arn],
    ['Description', key.Description],
    ['State', stateCell(key.KeyState)],
    ['Spec', key.KeySpec],
    ['Usage', key.KeyUsage],
    ['Origin', key.Origin],
    ['Manager', key.KeyManager],
    ['Multi-Region', key.MultiRegion === undefined ? undefined : String(key.MultiRegion)],
    ['Created', formatDate(key.CreationDate)],
    ['Deletion date', formatDate(key.DeletionDate)],
    ['Algorithms', [...(key.EncryptionAlgorithms ?? []), ...(key.SigningAlgorithms ?? []), ...(key.MacAlgorithms ?? [])].join(', ')],
  ]);
}
