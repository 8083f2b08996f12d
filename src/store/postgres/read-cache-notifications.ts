import type { TimedReadCache } from './read-cache.js';
import { sqlOn, type Pool, type Sql } from './transaction.js';

/** The channel every node of a deployment notifies its writes on and listens to. */
const CHANNEL = 'coffer_read_cache';
/** How often a node sends itself a ping through the channel: how far behind the database its knowledge may fall. */
const PING_EVERY_MS = 100;
/** A ping not heard back within this long is taken as lost (the listening connection dropped), and sent anew. */
const PING_LOST_AFTER_MS = 2_000;

/**
 * Tells this node's read cache (read-cache.ts) about other nodes' writes, so that its entries need not expire
 * every `maxAgeMs` to see them: with 2,000 secrets read at random each is read only every second or two, and an
 * entry that lives 500 ms is never read twice.
 *
 * How, by three rules:
 * - Every transaction that writes sends `write:<node>` with pg_notify before its COMMIT. PostgreSQL delivers a
 *   transaction's notifications only if it commits, and to every listener in commit order.
 * - Each node listens, and every PING_EVERY_MS notifies `ping:<node>:<n>` itself. Hearing its own ping n, sent
 *   at time t, means it has heard every write committed before t (commit order), so the cache is told it is in
 *   step with the database as of t (TimedReadCache.heardAllWritesBefore). Another node's write empties the cache,
 *   as this node's own writes do.
 * - When the listening connection is (re)established the cache is emptied, since notifications sent while it
 *   was down are lost, and only pings sent after that count.
 *
 * So an entry is served while the node is in step as of less than `maxAgeMs` ago: another node's write is seen
 * here within the same bound as before (in practice about PING_EVERY_MS plus a round trip), and an entry lives
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
  #unlisten: (() => Promise<void>) | undefined;
  #nextPing = 0;
  /** The first ping sent since the listener last (re)connected: earlier ones may have been sent while it was down. */
  #firstCountingPing = Number.POSITIVE_INFINITY;
  #outstanding: { n: number; sentAt: number } | undefined;

  constructor(pool: Pool, cache: TimedReadCache, node: string, now: () => number = () => performance.now()) {
    this.#pool = pool;
    this.#cache = cache;
    this.#node = node;
    this.#now = now;
  }

  /** Starts listening (once; later calls do nothing): a node does when its cache is first read. */
  listen(): void {
    if (this.#listening || this.#closed) return;
    this.#listening = true;
    this.#pool
      .listen(CHANNEL, (payload) => this.#heard(payload), () => this.#connected())
      .then(({ unlisten }) => {
        if (this.#closed) return void unlisten().catch(() => undefined);
        this.#unlisten = unlisten;
        this.#timer = setInterval(() => this.#ping(), PING_EVERY_MS);
        this.#timer.unref();
      })
      // No LISTEN here (an engine without it, a database refusing): the cache keeps to expiry by age.
      .catch(() => undefined);
  }

  /** Inside a transaction that wrote, before its COMMIT: tells every listening node, if the commit happens. */
  async announceWrite(sql: Sql): Promise<void> {
    if (await this.#engineNotifies(sql)) await sql.one('SELECT pg_notify($1, $2)', [CHANNEL, `write:${this.#node}`]);
  }

  /** A write made outside any transaction of this store (a whole store loaded by `coffer migrate`). */
  async announceWriteOutside(): Promise<void> {
    const sql = sqlOn(this.#pool);
    if (await this.#engineNotifies(sql)) await sql.one('SELECT pg_notify($1, $2)', [CHANNEL, `write:${this.#node}`]);
  }

  close(): void {
    this.#closed = true;
    clearInterval(this.#timer);
    void this.#unlisten?.().catch(() => undefined);
  }

  /**
   * Whether the engine has pg_notify, asked once with a statement that cannot fail (so it may run inside the
   * caller's transaction, on its connection: waiting for another of the pool's could deadlock a full pool).
   */
  async #engineNotifies(sql: Sql): Promise<boolean> {
    this.#notifying ??= sql.one("SELECT EXISTS (SELECT 1 FROM pg_catalog.pg_proc WHERE proname = 'pg_notify') AS notifies").then(
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
      // This node's own writes emptied the cache when their transaction ended (postgres-store.ts).
      if (payload !== `write:${this.#node}`) this.#cache.invalidate();
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
    if (this.#outstanding !== undefined && this.#now() - this.#outstanding.sentAt < PING_LOST_AFTER_MS) return;
    const n = this.#nextPing++;
    this.#outstanding = { n, sentAt: this.#now() };
    this.#pool.unsafe('SELECT pg_notify($1, $2)', [CHANNEL, `ping:${this.#node}:${n}`]).catch(() => {
      if (this.#outstanding?.n === n) this.#outstanding = undefined;
    });
  }
}
