/**
 * The canonical form of a KMS encryption context, used as AAD: pairs sorted by key (code-unit order),
 * serialised as a JSON array of [key, value] pairs so that no choice of keys or values can collide.
 * An absent and an empty context are the same, as in AWS.
 */
export type EncryptionContext = Record<string, string>;

export function canonicalEncryptionContext(context: EncryptionContext | undefined): Buffer {
  if (!context) return Buffer.alloc(0);
  const keys = Object.keys(context).sort();
  if (keys.length === 0) return Buffer.alloc(0);
  return Buffer.from(JSON.stringify(keys.map((key) => [key, context[key]])), 'utf8');
}
