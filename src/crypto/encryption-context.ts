/**
 * The canonical form of a KMS encryption context, used as AAD: pairs sorted by key (code-unit order),
 * serialised as a JSON array of [key, value] pairs so that no choice of keys or values can collide.
 * An absent and an empty context are the same, as in AWS.
 */
export type EncryptionContext = Record<string, string>;

export function canonicalEncryptionContext(context: EncryptionContext | undefined): Buffer {
  if (!context) return Buffer.alloc(0);
  const keys = sortedKeys(context);
  if (keys.length === 0) return Buffer.alloc(0);
  const pairs: [string, string][] = new Array(keys.length);
  for (let index = 0; index < keys.length; index++) pairs[index] = [keys[index]!, context[keys[index]!]!];
  return Buffer.from(JSON.stringify(pairs), 'utf8');
}

/**
 * The context's keys in code-unit order (what Array.prototype.sort gives without a compare function). Sorted in
 * place by insertion: a context has a few keys, and V8's sort allocates its work arrays however short the list
 * (≈ 0.8 KB per call; every Decrypt and GetSecretValue sorts one or two contexts).
 */
function sortedKeys(context: EncryptionContext): string[] {
  const keys = Object.keys(context);
  if (keys.length > 16) return keys.sort();
  for (let index = 1; index < keys.length; index++) {
    const key = keys[index]!;
    let at = index;
    for (; at > 0 && keys[at - 1]! > key; at--) keys[at] = keys[at - 1]!;
    keys[at] = key;
  }
  return keys;
}
