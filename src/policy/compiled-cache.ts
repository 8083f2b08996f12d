import { compilePolicyText, type CompiledPolicy } from './compile.js';

/**
 * Compiled policies by their text: policies are stored as JSON text and read per request, so compiling them
 * once per distinct text keeps evaluation cheap without caching anything that could go stale (the text is the
 * key, so a changed policy is a new entry). Bounded: the oldest entries go first.
 */
export class CompiledPolicyCache {
  readonly #entries = new Map<string, CompiledPolicy>();
  readonly #maxEntries: number;

  constructor(maxEntries = 10_000) {
    this.#maxEntries = maxEntries;
  }

  /** The compiled form of a stored policy; undefined when the text does not parse (it was validated when stored). */
  get(text: string): CompiledPolicy | undefined {
    const cached = this.#entries.get(text);
    if (cached) return cached;
    const result = compilePolicyText(text);
    if (!result.policy) return undefined;
    if (this.#entries.size >= this.#maxEntries) this.#entries.delete(this.#entries.keys().next().value as string);
    this.#entries.set(text, result.policy);
    return result.policy;
  }
}
