import type { TimedReadCache } from './read-cache.js';
import type { WriteScope } from '../read-cache-scope.js';
import { sqlOn, type Pool } from './transaction.js';

/** The channel every node of a deployment notifies its writes on and listens to. */
const CHANNEL = 'coffer_read_cache';
/** How often a node sends itself a ping through the channel: how far behind the database its knowledge may fall. */
const PING_EVERY_MS = 100;
/** How long a write's caller waits for its announcement at most. */
const ANNOUNCE_WAIT_MS = 1_000;
/** How long after the cache's last read the pings go on. */
const PINGS_WHILE_USED_MS = 2_000;
/** A ping not heard back within this long is taken as lost (the listening connection dropped), and sent anew. */
const PING_LOST_AFTER_MS = 2_000;
/** The longest scope a notification carries; PostgreSQL refuses payloads of 8,000 bytes or more. A longer one empties everything. */
const MAX_SCOPE_CHARS = 7_000;

/**
 * Tells this node's read cache (read-cache.ts) about other nodes' writes, so that its entries need not expire
 * every `maxAgeMs` to see them: with 2,000 secrets read at random each is read only every second or two, and an
 * entry that lives 500 ms is never read twice.
 *
 * How, by three rules:
 * - After every transaction that writes (committed, or perhaps committed), the node sends `write:<node>` with
 *   pg_notify, and answers its caller once that has committed. PostgreSQL delivers notifications to every
 *   listener in commit order. When every write of a batch named the secrets it wrote (read-cache-scope.ts), the
 *   payload carries their ARNs, `write:<node> {"secretArns":[…]}`, and the other nodes empty only their entries;
 *   a payload they cannot read empties everything, and a node of an older version empties everything on any
 *   `write:` but its own.
 * - Each node listens, and every PING_EVERY_MS notifies `ping:<node>:<n>` itself. Hearing its own ping n, sent
 *   at time t, means it has heard every write committed before t (commit order), so the cache is told it is in
 *   step with the database as of t (TimedReadCache.heardAllWritesBefore). Another node's write empties the cache,
 *   as this node's own writes do.
 * - When the listening connection is (re)established the cache is emptied, since notifications sent while it
 *   was down are lost, and only pings sent after that count.
 *
 * So an entry is served while the node is in step as of less than `maxAgeMs` ago: a write answered by another
 * node is seen here within `maxAgeMs` of that answer, the bound as before (in practice about PING_EVERY_MS plus a
 * round trip); a node that failed between a COMMIT and its notification (its caller unanswered) is covered by
 * `maxLifetimeMs` (postgres-store.ts). And an entry lives
 * until a write anywhere empties the cache. When the listener is down or the engine has no LISTEN/NOTIFY (the
 * distributed engines), nothing is heard and entries expire by age alone, as before.
 */
export class ReadCacheNotifications {
  readonly #pool: Pool;
  readonly #cache: TimedReadCache;
  readonly #node: string;
  readonly #now: () => number;
  /** Whether the engine has pg_notify: asked once, by the first write that must notify. */
  #notifying: Promise<boolean> | undefined;
  #listening = false;
  #closed = false;
  #timer: NodeJS.Timeout | undefined;
  #nextPing = 0;
  /** The first ping sent since the listener last (re)connected: earlier ones may have been sent while it was down. */
  #firstCountingPing = Number.POSITIVE_INFINITY;
  #outstanding: { n: number; sentAt: number } | undefined;
  #lastUsedAt = Number.NEGATIVE_INFINITY;
  /** The notification writes join until it is sent, and the one being sent. */
  #nextBatch: Promise<void> | undefined;
  /** The secrets the writes of #nextBatch wrote, or undefined once one of them named none (everything). */
  #nextBatchScope: Set<string> | undefined;
  #sending: Promise<void> | undefined;

  /**
   * `pool` is the notifications' own (one connection, beside the listener's): pings and announcements never
   * take a connection the store's calls wait for, nor wait for one. close() ends it.
   */
  constructor(pool: Pool, cache: TimedReadCache, node: string, now: () => number = () => performance.now()) {
    this.#pool = pool;
    this.#cache = cache;
    this.#node = node;
    this.#now = now;
  }

  /** The cache is being read: starts listening the first time, and keeps the pings going while reads go on. */
  used(): void {
    this.#lastUsedAt = this.#now();
    if (this.#listening || this.#closed) return;
    this.#listening = true;
    this.#pool
      .listen(CHANNEL, (payload) => this.#heard(payload), () => this.#connected())
      .then(({ unlisten }) => {
        if (this.#closed) return void unlisten().catch(() => undefined);
        this.#timer = setInterval(() => this.#ping(), PING_EVERY_MS);
        this.#timer.unref();
      })
      // No LISTEN here (an engine without it, a database refusing): the cache keeps to expiry by age.
      .catch(() => undefined);
  }

  /**
   * After a write committed (or may have): tells every listening node. Writes that announce while a notification
   * is on its way share the next one, sent after it (one notifying transaction per batch: they commit one at a
   * time, database-wide). Never fails: a notification that could not be sent leaves other nodes to expire their
   * entries by age or, when they still hear pings, by maxLifetimeMs.
   */
  announceWrite(scope?: WriteScope): Promise<void> {
    const batch = this.#nextBatch ?? this.#newBatch(scope);
    this.#widenNextBatch(scope);
    // Bounded: a database that fails now leaves the write committed and the caller must not hang on the
    // announcement (the other nodes, which reach the same database, then hear no pings either).
    let timer: NodeJS.Timeout | undefined;
    const givenUp = new Promise<void>((resolve) => (timer = setTimeout(resolve, ANNOUNCE_WAIT_MS)));
    return Promise.race([batch, givenUp]).finally(() => clearTimeout(timer));
  }

  #newBatch(scope: WriteScope | undefined): Promise<void> {
    const batch: Promise<void> = (this.#sending ?? Promise.resolve())
      .then(async () => {
        // From here on a new write needs a later notification: this one may commit before that write did.
        const payload = writePayload(this.#node, this.#nextBatchScope);
        this.#nextBatch = undefined;
        this.#nextBatchScope = undefined;
        this.#sending = batch;
        if (await this.#engineNotifies()) await this.#pool.unsafe('SELECT pg_notify($1, $2)', [CHANNEL, payload]);
      })
      .catch(() => undefined)
      .finally(() => {
        if (this.#sending === batch) this.#sending = undefined;
      });
    this.#nextBatch = batch;
    this.#nextBatchScope = scope ? new Set() : undefined;
    return batch;
  }

  /** A write joined the next batch: its secrets join the batch's scope, or, naming none, make it everything. */
  #widenNextBatch(scope: WriteScope | undefined): void {
    if (!scope) this.#nextBatchScope = undefined;
    else if (this.#nextBatchScope) for (const arn of scope.secretArns) this.#nextBatchScope.add(arn);
  }

  async close(): Promise<void> {
    this.#closed = true;
    clearInterval(this.#timer);
    await this.#pool.end({ timeout: 5 });
  }

  /** Whether the engine has pg_notify (the distributed engines may not), asked once, with a statement that cannot fail. */
  async #engineNotifies(): Promise<boolean> {
    this.#notifying ??= sqlOn(this.#pool).one("SELECT EXISTS (SELECT 1 FROM pg_catalog.pg_proc WHERE proname = 'pg_notify') AS notifies").then(
      (row) => row?.notifies === true,
      (error: unknown) => {
        this.#notifying = undefined;
        throw error;
      },
    );
    return this.#notifying;
  }

  #connected(): void {
    this.#cache.invalidate();
    this.#firstCountingPing = this.#nextPing;
    this.#outstanding = undefined;
  }

  #heard(payload: string): void {
    if (payload.startsWith('write:')) {
      const { node, scope } = readWritePayload(payload);
      // This node's own writes emptied the cache when their transaction ended (postgres-store.ts).
      if (node === this.#node) return;
      if (scope) this.#cache.invalidateScope(scope);
      else this.#cache.invalidate();
      return;
    }
    const prefix = `ping:${this.#node}:`;
    if (!payload.startsWith(prefix)) return;
    const n = Number(payload.slice(prefix.length));
    const outstanding = this.#outstanding;
    if (outstanding === undefined || outstanding.n !== n || n < this.#firstCountingPing) return;
    this.#outstanding = undefined;
    this.#cache.heardAllWritesBefore(outstanding.sentAt);
  }

  #ping(): void {
    // An idle node stops pinging (each ping is a small committed transaction); its first read resumes them.
    if (this.#now() - this.#lastUsedAt > PINGS_WHILE_USED_MS) return;
    if (this.#outstanding !== undefined && this.#now() - this.#outstanding.sentAt < PING_LOST_AFTER_MS) return;
    const n = this.#nextPing++;
    this.#outstanding = { n, sentAt: this.#now() };
    this.#pool.unsafe('SELECT pg_notify($1, $2)', [CHANNEL, `ping:${this.#node}:${n}`]).catch(() => {
      if (this.#outstanding?.n === n) this.#outstanding = undefined;
    });
  }
}

/** `write:<node>`, followed by the batch's secrets when every write of it named them and they fit. */
function writePayload(node: string, secretArns: ReadonlySet<string> | undefined): string {
  if (!secretArns || secretArns.size === 0) return `write:${node}`;
  const scope = JSON.stringify({ secretArns: [...secretArns] });
  return scope.length > MAX_SCOPE_CHARS ? `write:${node}` : `write:${node} ${scope}`;
}

/** The writing node and, when the payload carries one this node can read, the secrets written; else no scope (everything). */
function readWritePayload(payload: string): { node: string; scope?: WriteScope } {
  const space = payload.indexOf(' ');
  if (space < 0) return { node: payload.slice('write:'.length) };
  const node = payload.slice('write:'.length, space);
  try {
    const { secretArns } = JSON.parse(payload.slice(space + 1)) as { secretArns?: unknown };
    if (Array.isArray(secretArns) && secretArns.length > 0 && secretArns.every((arn) => typeof arn === 'string')) return { node, scope: { secretArns } };
  } catch {
    // Not JSON: a format of another version. Everything goes.
  }
  return { node };
}
