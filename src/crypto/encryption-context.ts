/**
 * The canonical form of a KMS encryption context, used as AAD: pairs sorted by key (code-unit order),
 * serialised as a JSON array of [key, value] pairs so that no choice of keys or values can collide.
 * An absent and an empty context are the same, as in AWS.
 */
export type EncryptionContext = Record<string, string>;

const EMPTY = Buffer.alloc(0);

/**
 * Canonical forms already made, by context object, with the pairs they were made from. A secret's envelope
 * canonicalizes one context twice per read (the data key's AAD in KMS Decrypt, then the value's), so the second
 * use finds it here; the pairs are compared before a remembered form is used, so a context changed in place is
 * canonicalized again. Weak: forgotten with the object.
 */
const REMEMBERED = new WeakMap<EncryptionContext, { readonly keys: readonly string[]; readonly values: readonly string[]; readonly bytes: Buffer }>();

/** The AAD bytes for `context`. Shared between calls for one context object: read them, never write to them. */
export function canonicalEncryptionContext(context: EncryptionContext | undefined): Buffer {
  if (!context) return EMPTY;
  const remembered = REMEMBERED.get(context);
  if (remembered && samePairs(context, remembered.keys, remembered.values)) return remembered.bytes;
  const keys = Object.keys(context).sort();
  if (keys.length === 0) return EMPTY;
  const values = keys.map((key) => context[key]!);
  const bytes = Buffer.from(JSON.stringify(keys.map((key, index) => [key, values[index]])), 'utf8');
  REMEMBERED.set(context, { keys, values, bytes });
  return bytes;
}

function samePairs(context: EncryptionContext, keys: readonly string[], values: readonly string[]): boolean {
  let count = 0;
  for (const key in context) {
    if (!Object.hasOwn(context, key)) return false;
    count += 1;
  }
  if (count !== keys.length) return false;
  for (let index = 0; index < keys.length; index++) {
    const key = keys[index]!;
    if (!Object.hasOwn(context, key) || context[key] !== values[index]) return false;
  }
  return true;
}
