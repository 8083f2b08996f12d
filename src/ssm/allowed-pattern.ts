import { setFlagsFromString } from 'node:v8';
import { Worker } from 'node:worker_threads';
import { ssmError } from './errors.js';

/**
 * AllowedPattern: a caller's regular expression, checked against values up to 8 KB without letting a
 * pathological pattern (`^(a+)+$`) hold the event loop (docs/ARCHITECTURE.md "Parameter Store").
 *
 * - Every pattern must compile as a JavaScript regular expression in unicode mode (`u`), or the write is
 *   InvalidAllowedPatternException: the syntax and meaning callers get, whichever engine runs it.
 * - V8's linear-time engine (the `l` flag) runs it when it can: it never backtracks, so any pattern takes time
 *   linear in the value. It has no unicode mode, so it is used only when the answer cannot differ from the `u`
 *   one: no `\p{…}`, `\P{…}` or `\u{…}` and no astral character in the pattern, no surrogate in the value.
 * - The rest (backreferences, lookaheads, bounded repeats above 16, unicode cases) runs on V8's backtracking
 *   engine in a worker thread, given PATTERN_TIME_LIMIT_MS from when it starts: past that the thread is
 *   terminated (a new one takes the next pattern) and the write is a ValidationException naming the pattern's
 *   risky features, never the value.
 */

// The `l` flag exists only with this V8 flag. Set here, at load of the only module that compiles `l` patterns,
// so it holds in every process that evaluates patterns (the server and each `--workers` cluster worker).
setFlagsFromString('--enable-experimental-regexp-engine');

/** How long the backtracking engine may run one pattern against one value. */
export const PATTERN_TIME_LIMIT_MS = 100;

/** InvalidAllowedPatternException unless the pattern compiles (unicode mode). */
export function assertValidAllowedPattern(pattern: string): void {
  try {
    new RegExp(pattern, 'u');
  } catch {
    throw ssmError('InvalidAllowedPatternException', 'The request does not meet the regular expression requirement.');
  }
}

/** A value that does not match the parameter's AllowedPattern is refused; the value itself is never quoted. */
export async function assertMatchesAllowedPattern(value: string, pattern: string | undefined): Promise<void> {
  if (pattern === undefined || pattern === '') return;
  assertValidAllowedPattern(pattern);
  const linear = linearRegExp(pattern, value);
  const outcome = linear ? linear.test(value) : await backtracking.match(pattern, value);
  if (outcome === 'timed out') {
    throw ssmError(
      'ValidationException',
      `AllowedPattern ${pattern} could not be evaluated within ${PATTERN_TIME_LIMIT_MS} ms. Patterns without ` +
        'backreferences, lookaheads or bounded repeats above {0,16} are evaluated in linear time; ' +
        `this one has ${riskyFeatures(pattern)}.`,
    );
  }
  if (!outcome) throw ssmError('ParameterPatternMismatchException', `Parameter value, cannot be validated against allowedPattern: ${pattern}`);
}

/** The pattern on the linear-time engine, when that gives the unicode-mode answer for this value. */
function linearRegExp(pattern: string, value: string): RegExp | undefined {
  if (/\\[pP]|\\u\{|[\uD800-\uDFFF]/.test(pattern) || /[\uD800-\uDFFF]/.test(value)) return undefined;
  try {
    return new RegExp(pattern, 'l');
  } catch {
    return undefined; // "Cannot be executed in linear time"
  }
}

/** What makes a pattern need the backtracking engine, for the timeout's message. */
function riskyFeatures(pattern: string): string {
  const features = [
    [/\\[1-9]|\\k</, 'a backreference'],
    [/\(\?<?[=!]/, 'a lookaround'],
    [/\{\d*,?\d*\}/, 'a bounded repeat'],
    [/\\[pP]\{|\\u\{/, 'a unicode escape'],
    [/\([^)]*[+*][^)]*\)[+*{]/, 'a nested quantifier'],
  ] as const;
  const found = features.filter(([test]) => test.test(pattern)).map(([, name]) => name);
  return found.length > 0 ? found.join(', ') : 'a construct the linear-time engine does not take';
}

/**
 * V8's backtracking engine in a worker thread that may be terminated: one pattern at a time, each given
 * PATTERN_TIME_LIMIT_MS once the thread runs it. Started on first use; an idle thread does not keep the process
 * alive.
 */
class BacktrackingMatcher {
  #worker: Worker | undefined;
  #online: Promise<void> | undefined;
  #queue: Promise<unknown> = Promise.resolve();

  match(pattern: string, value: string): Promise<boolean | 'timed out'> {
    const run = this.#queue.then(() => this.#run(pattern, value));
    this.#queue = run.catch(() => undefined);
    return run;
  }

  async #run(pattern: string, value: string): Promise<boolean | 'timed out'> {
    const { worker, online } = this.#thread();
    worker.ref();
    try {
      await online;
      return await new Promise<boolean | 'timed out'>((resolve, reject) => {
        const timer = setTimeout(() => {
          this.#discard();
          this.#thread(); // the next thread starts now, not when the next pattern comes
          resolve('timed out');
        }, PATTERN_TIME_LIMIT_MS);
        const settle = (then: () => void) => {
          clearTimeout(timer);
          worker.off('message', onMessage).off('error', onError);
          then();
        };
        const onMessage = (matched: boolean) => settle(() => resolve(matched));
        const onError = (error: Error) => settle(() => reject(error));
        worker.on('message', onMessage).on('error', onError);
        worker.postMessage({ pattern, value });
      });
    } finally {
      worker.unref();
    }
  }

  /** The thread, and when it is online (its start-up does not count against a pattern's time). */
  #thread(): { worker: Worker; online: Promise<void> } {
    if (!this.#worker) {
      const worker = new Worker(WORKER_SOURCE, { eval: true });
      worker.unref();
      // An error ends the thread; the pattern running (if any) is answered by its own listener or its timer.
      worker.on('error', () => this.#discard());
      worker.once('exit', () => {
        if (this.#worker === worker) this.#discard();
      });
      this.#worker = worker;
      this.#online = new Promise((resolve, reject) => {
        worker.once('online', resolve).once('error', reject);
        worker.once('exit', () => reject(new Error('the AllowedPattern thread ended before it was online')));
      });
    }
    return { worker: this.#worker, online: this.#online! };
  }

  #discard(): void {
    void this.#worker?.terminate();
    this.#worker = undefined;
    this.#online = undefined;
  }
}

// process.getBuiltinModule works whether Node runs an eval'd worker as CommonJS or as an ES module.
const WORKER_SOURCE = `
const { parentPort } = process.getBuiltinModule('node:worker_threads');
parentPort.on('message', ({ pattern, value }) => parentPort.postMessage(new RegExp(pattern, 'u').test(value)));
`;

const backtracking = new BacktrackingMatcher();
