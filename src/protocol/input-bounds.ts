import { commonError } from '../core/index.js';

/**
 * The most values (list items and structure or map members, counted over the whole document) one request's input
 * may hold. The largest AWS inputs these services take hold a few hundred (50 tags, 20 secret ids, a policy is one
 * string); a 1 MiB body could hold half a million, and the schema check would then describe each one that fails
 * (zod reports every item): about 30 times the body in memory and a fifth of a second of CPU per request.
 */
export const MAX_INPUT_VALUES = 10_000;

/** Throws SerializationException when `value` holds more than MAX_INPUT_VALUES values; walks without recursion. */
export function assertBoundedInput(value: unknown): void {
  let count = 0;
  const pending: unknown[] = [value];
  while (pending.length > 0) {
    const current = pending.pop();
    if (current === null || typeof current !== 'object') continue;
    const members = Array.isArray(current) ? current : Object.values(current);
    count += members.length;
    if (count > MAX_INPUT_VALUES) throw tooManyValues();
    for (const member of members) if (member !== null && typeof member === 'object') pending.push(member);
  }
}

export function tooManyValues() {
  return commonError('SerializationException', `The request holds more than ${MAX_INPUT_VALUES} values (list items and members).`);
}
