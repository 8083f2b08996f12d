import assert from 'node:assert/strict';
import { appendFileSync } from 'node:fs';

/**
 * Altered copies of a byte string, for tampering tests: every single-bit flip, every truncation, and splices of
 * two strings' parts. Each comes with a label that says what was done, for the failure message.
 */
export type Variant = { label: string; bytes: Buffer };

export function* bitFlips(original: Buffer): Generator<Variant> {
  for (let bit = 0; bit < original.length * 8; bit += 1) {
    const bytes = Buffer.from(original);
    bytes[bit >> 3] = bytes[bit >> 3]! ^ (0x80 >> (bit & 7));
    yield { label: `bit ${bit} flipped`, bytes };
  }
}

/** Every strict prefix (lengths 0 .. n-1), and the whole with a byte appended. */
export function* truncations(original: Buffer): Generator<Variant> {
  for (let length = 0; length < original.length; length += 1) yield { label: `truncated to ${length} bytes`, bytes: Buffer.from(original.subarray(0, length)) };
  yield { label: 'one byte appended', bytes: Buffer.concat([original, Buffer.from([0])]) };
}

/** `a` up to each cut in `cuts`, then `b` from the same offset: fields of one record with fields of another. */
export function* splices(a: Buffer, b: Buffer, cuts: readonly number[], names: readonly string[] = []): Generator<Variant> {
  for (const [index, cut] of cuts.entries()) {
    if (cut <= 0 || cut >= Math.min(a.length, b.length)) continue;
    const bytes = Buffer.concat([a.subarray(0, cut), b.subarray(cut)]);
    // Where the two agree up to the cut (the same version byte, say) the splice is just `b`: no tampering.
    if (bytes.equals(a) || bytes.equals(b)) continue;
    yield { label: `first ${cut} bytes (${names[index] ?? cut}) of one, the rest of another`, bytes };
  }
}

export type Tally = { tried: number; refusedBy: Map<string, number> };

/**
 * Tries each variant with `attempt` (a real API call) and checks it is refused with one of `allowed` error codes
 * (and a 4xx, unless `serverFaults`), never accepted; returns how often each code came.
 */
export async function assertAllRefused(
  variants: Iterable<Variant>,
  attempt: (bytes: Buffer) => Promise<unknown>,
  allowed: ReadonlySet<string>,
  options: { serverFaults?: boolean } = {},
): Promise<Tally> {
  const tally: Tally = { tried: 0, refusedBy: new Map() };
  for (const variant of variants) {
    tally.tried += 1;
    let outcome: unknown;
    try {
      outcome = await attempt(variant.bytes);
    } catch (error) {
      const { name, $metadata } = error as { name: string; $metadata?: { httpStatusCode?: number } };
      assert.ok(allowed.has(name), `${variant.label}: ${name}`);
      // A tampered blob is the client's fault (4xx); a tampered database is the server's (its own 5xx code).
      if (!options.serverFaults) assert.ok(($metadata?.httpStatusCode ?? 0) < 500, `${variant.label}: HTTP ${$metadata?.httpStatusCode}`);
      tally.refusedBy.set(name, (tally.refusedBy.get(name) ?? 0) + 1);
      continue;
    }
    assert.fail(`${variant.label}: accepted (${JSON.stringify(outcome).slice(0, 80)})`);
  }
  return tally;
}

/** With COFFER_TAMPER_REPORT set (npm run reliability:tamper), appends the tallies as JSON lines for the report. */
export function reportTallies(suite: string, tallies: Record<string, Tally>): void {
  const file = process.env.COFFER_TAMPER_REPORT;
  if (!file) return;
  for (const [name, tally] of Object.entries(tallies)) {
    appendFileSync(file, `${JSON.stringify({ suite, case: name, tried: tally.tried, refusedBy: Object.fromEntries(tally.refusedBy) })}\n`);
  }
}
