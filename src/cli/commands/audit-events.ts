/**
 * @module cli
 * `coffer audit events`: the audit trail of a running server, read with CloudTrail's LookupEvents as any
 * CloudTrail client reads it (the caller's own account, the policies deciding), with the credentials, Region and
 * endpoint of `coffer secrets` (aws-clients.ts). `coffer audit verify|list` read a data dir instead (audit.ts).
 * Events carry no secret values (the server removed them before recording), so printing them is safe.
 */
import type { Command } from 'commander';
import type { CloudTrailClient, Event as TrailEvent, LookupAttribute, LookupAttributeKey } from '@aws-sdk/client-cloudtrail';
import { resolveRegion, type ClientOptions } from '../aws-clients.js';
import { remoteCommandGroup } from '../remote-command.js';
import { formatTable, printJson, UsageError, type Cell } from '../output.js';

type CloudTrailSdk = typeof import('@aws-sdk/client-cloudtrail');
type CloudTrail = { sdk: CloudTrailSdk; client: CloudTrailClient };

type EventsOptions = {
  since?: string;
  until?: string;
  eventName?: string;
  user?: string;
  resource?: string;
  accessKey?: string;
  eventSource?: string;
  readOnly?: boolean;
  writes?: boolean;
  errors?: boolean;
  limit: string;
};

/** One filter: what LookupEvents can apply itself (one per call), and the same test on an event we hold. */
type EventFilter = { attribute?: LookupAttribute; matches(event: TrailEvent, body: CloudTrailRecord): boolean };

/** The members of a CloudTrail record this command reads. */
type CloudTrailRecord = { errorCode?: string; sourceIPAddress?: string; userIdentity?: { arn?: string; type?: string } };

const PAGE_SIZE = 50;

export function registerAuditEventsCommand(program: Command): void {
  const subcommand = remoteCommandGroup<CloudTrail>(program, {
    name: 'audit',
    description: 'read the audit trail of a running Coffer server (CloudTrail LookupEvents)',
    endpointHelp: "Coffer's URL (default: AWS_ENDPOINT_URL_CLOUDTRAIL, AWS_ENDPOINT_URL, the profile's endpoint_url)",
    actionPrefix: 'cloudtrail',
    listCommand: 'coffer audit events',
    open: openCloudTrail,
    close: (trail) => trail.client.destroy(),
  });

  subcommand('events', 'audit events of a running server, newest first (time, operation, caller, resource, outcome)', 'LookupEvents', (command) => {
    command
      .option('--since <time>', 'events at or after this time: ISO 8601 (2026-12-01T09:00Z) or an age (30m, 12h, 7d)')
      .option('--until <time>', 'events at or before this time (same forms as --since)')
      .option('--event-name <operation>', 'only this operation (GetSecretValue, Decrypt, AssumeRole, …)')
      .option('--user <name>', 'only calls by this user or role session name')
      .option('--resource <name>', 'only calls on this resource: an ARN, a secret name, a key id or an alias name')
      .option('--access-key <id>', 'only calls signed with this access key id')
      .option('--event-source <source>', 'only this service (secretsmanager.amazonaws.com, kms.amazonaws.com, …)')
      .option('--read-only', 'only calls that read')
      .option('--writes', 'only calls that change something')
      .option('--errors', 'only refused or failed calls')
      .option('--limit <n>', 'at most this many events', '50');
    return (options: EventsOptions) => async (trail, format) => {
      const query = buildQuery(options);
      const events = await lookup(trail, query);
      if (format === 'json') return printJson({ Events: events });
      if (events.length === 0) {
        process.stdout.write('no events match\n');
        return;
      }
      process.stdout.write(formatTable(['TIME', 'OPERATION', 'CALLER', 'RESOURCE', 'OUTCOME'], events.map(eventRow)));
    };
  });
}

type Query = { startTime?: Date; endTime?: Date; filters: EventFilter[]; limit: number };

function buildQuery(options: EventsOptions): Query {
  const limit = Number(options.limit);
  if (!Number.isInteger(limit) || limit < 1) throw new UsageError(`--limit ${options.limit}: expected a positive whole number`);
  if (options.readOnly && options.writes) throw new UsageError('--read-only and --writes exclude each other');
  const startTime = options.since === undefined ? undefined : parseTime('--since', options.since);
  const endTime = options.until === undefined ? undefined : parseTime('--until', options.until);
  if (startTime && endTime && startTime > endTime) throw new UsageError('--since is after --until');
  return { startTime, endTime, filters: buildFilters(options), limit };
}

function buildFilters(options: EventsOptions): EventFilter[] {
  const filters: EventFilter[] = [];
  const exact = (key: LookupAttributeKey, value: string | undefined, read: (event: TrailEvent) => string | undefined) => {
    if (value !== undefined) filters.push({ attribute: { AttributeKey: key, AttributeValue: value }, matches: (event) => read(event) === value });
  };
  exact('EventName', options.eventName, (event) => event.EventName);
  exact('Username', options.user, (event) => event.Username);
  exact('AccessKeyId', options.accessKey, (event) => event.AccessKeyId);
  exact('EventSource', options.eventSource, (event) => event.EventSource);
  if (options.resource !== undefined) filters.push(resourceFilter(options.resource));
  if (options.readOnly || options.writes) {
    const wanted = options.readOnly ? 'true' : 'false';
    filters.push({ attribute: { AttributeKey: 'ReadOnly', AttributeValue: wanted }, matches: (event) => event.ReadOnly === wanted });
  }
  if (options.errors) filters.push({ matches: (_event, body) => body.errorCode !== undefined });
  return filters;
}

/**
 * LookupEvents matches ResourceName exactly, and Coffer records resources by ARN; a person types a name. An ARN
 * goes to the server; a name is matched here against the ARNs' last part (`secret:NAME-AbCdEf`, or `secret:NAME`
 * for a call refused before the secret was found, `key/ID`, `alias/NAME`).
 */
function resourceFilter(resource: string): EventFilter {
  if (resource.startsWith('arn:')) {
    return { attribute: { AttributeKey: 'ResourceName', AttributeValue: resource }, matches: (event) => resourceNames(event).includes(resource) };
  }
  const alias = resource.startsWith('alias/') ? resource : `alias/${resource}`;
  const secret = new RegExp(`:secret:${escapeRegExp(resource)}(-[A-Za-z0-9]{6})?$`);
  const named = (arn: string) => secret.test(arn) || arn.endsWith(`:key/${resource}`) || arn.endsWith(`:${alias}`);
  return { matches: (event) => resourceNames(event).some(named) };
}

function resourceNames(event: TrailEvent): string[] {
  return (event.Resources ?? []).map((resource) => resource.ResourceName ?? '');
}

/**
 * Pages through LookupEvents with the first filter the server can apply (it takes one), applying the rest here,
 * until `limit` events match or the trail ends.
 */
async function lookup(trail: CloudTrail, query: Query): Promise<TrailEvent[]> {
  const serverSide = query.filters.find((filter) => filter.attribute !== undefined);
  const found: TrailEvent[] = [];
  let nextToken: string | undefined;
  do {
    const page = await trail.client.send(
      new trail.sdk.LookupEventsCommand({
        StartTime: query.startTime,
        EndTime: query.endTime,
        LookupAttributes: serverSide ? [serverSide.attribute!] : undefined,
        MaxResults: PAGE_SIZE,
        NextToken: nextToken,
      }),
    );
    for (const event of page.Events ?? []) {
      const body = parseRecord(event);
      if (query.filters.every((filter) => filter.matches(event, body))) found.push(event);
      if (found.length === query.limit) return found;
    }
    nextToken = page.NextToken;
  } while (nextToken !== undefined);
  return found;
}

function parseRecord(event: TrailEvent): CloudTrailRecord {
  try {
    return JSON.parse(event.CloudTrailEvent ?? '{}') as CloudTrailRecord;
  } catch {
    return {};
  }
}

function eventRow(event: TrailEvent): Cell[] {
  const body = parseRecord(event);
  const resources = displayedResources(resourceNames(event));
  return [
    event.EventTime ? `${event.EventTime.toISOString().slice(0, 19).replace('T', ' ')} UTC` : '',
    event.EventName ?? '',
    event.Username ?? body.userIdentity?.arn ?? body.userIdentity?.type ?? '',
    resources.length > 1 ? `${resources[0]} (+${resources.length - 1})` : (resources[0] ?? ''),
    body.errorCode === undefined ? { text: 'ok', colour: 'green' } : { text: body.errorCode, colour: 'red' },
  ];
}

/**
 * The resources as a person names them: an event lists a secret both by name and by ARN, so an ARN whose last part
 * names a listed name is left out; other ARNs are shortened to their last part (`secret:prod/db`, `key/1234…`).
 */
function displayedResources(names: string[]): string[] {
  const plain = names.filter((name) => !name.startsWith('arn:'));
  const covered = (tail: string) => plain.some((name) => tail === name || tail.startsWith(`secret:${name}-`) || tail.endsWith(`/${name}`));
  const others = names
    .filter((name) => name.startsWith('arn:'))
    .map(shortResourceName)
    .filter((tail) => !covered(tail));
  return [...plain, ...others];
}

/** `arn:aws:secretsmanager:us-east-1:111122223333:secret:prod/db-AbCdEf` → `secret:prod/db-AbCdEf`. */
function shortResourceName(arn: string): string {
  const parts = arn.split(':');
  return parts.length >= 6 && parts[0] === 'arn' ? parts.slice(5).join(':') : arn;
}

const AGE = /^(\d+)([smhd])$/;
const AGE_UNIT_MS = { s: 1_000, m: 60_000, h: 3_600_000, d: 86_400_000 } as const;

/** An ISO 8601 time, or an age before now (`90m`, `7d`). */
function parseTime(flag: string, value: string): Date {
  const age = AGE.exec(value);
  if (age) return new Date(Date.now() - Number(age[1]) * AGE_UNIT_MS[age[2] as keyof typeof AGE_UNIT_MS]);
  const date = new Date(value);
  if (!/^\d{4}-\d\d-\d\d/.test(value) || Number.isNaN(date.getTime())) {
    throw new UsageError(`${flag} ${value}: expected an ISO 8601 time (2026-12-01T09:00Z) or an age (30m, 12h, 7d)`);
  }
  return date;
}

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

/** The CloudTrail client, the SDK loaded on demand; the Region resolved as the other remote commands resolve it. */
async function openCloudTrail(options: ClientOptions): Promise<CloudTrail> {
  process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';
  const sdk = await import('@aws-sdk/client-cloudtrail');
  const region = await resolveRegion(options, (config) => new sdk.CloudTrailClient(config));
  return { sdk, client: new sdk.CloudTrailClient({ region, endpoint: options.endpointUrl, profile: options.profile, maxAttempts: 3 }) };
}
