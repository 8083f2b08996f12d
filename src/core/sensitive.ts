import { inspect } from 'node:util';

const REDACTED = '[redacted]';

/**
 * Wraps a plaintext, key or secret value so that logging, JSON.stringify or util.inspect of it prints
 * "[redacted]". Only `reveal()` gives the value back; call it where the value is really used.
 */
export class Sensitive<T> {
  readonly #value: T;

  constructor(value: T) {
    this.#value = value;
  }

  reveal(): T {
    return this.#value;
  }

  toJSON(): string {
    return REDACTED;
  }

  toString(): string {
    return REDACTED;
  }

  [inspect.custom](): string {
    return REDACTED;
  }
}

export function sensitive<T>(value: T): Sensitive<T> {
  return new Sensitive(value);
}
