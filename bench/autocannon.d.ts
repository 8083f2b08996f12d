/** The part of autocannon 9's programmatic API the bench uses (the package ships no types). */
declare module 'autocannon' {
  import type { EventEmitter } from 'node:events';

  type Result = { errors: number; timeouts: number; non2xx: number; requests: { total: number } };
  type Instance = EventEmitter & PromiseLike<Result>;

  function autocannon(options: Record<string, unknown>): Instance;
  export default autocannon;
}
