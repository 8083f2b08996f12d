import type { Clock } from '../../src/core/index.js';

/** A clock tests move by hand, to cross deletion windows and rotation dates without waiting. */
export class ManualClock implements Clock {
  #nowMs: number;

  constructor(start = new Date()) {
    this.#nowMs = start.getTime();
  }

  now(): Date {
    return new Date(this.#nowMs);
  }

  advanceDays(days: number): void {
    this.#nowMs += days * 86_400_000;
  }

  advanceMs(ms: number): void {
    this.#nowMs += ms;
  }
}
