/**
 * The canonical form of a KMS encryption context, used as AAD: pairs sorted by key (code-unit order),
 * serialised as a JSON array of [key, value] pairs so that no choice of keys or values can collide.
 * An absent and an empty context are the same, as in AWS.
 */
export type EncryptionContext = Record<string, string>;

export function canonicalEncryptionContext(context: EncryptionContext | undefined): Buffer {
  const text = canonicalEncryptionContextText(context);
  return text === '' ? Buffer.alloc(0) : Buffer.from(text, 'utf8');
}

/**
 * The canonical form as text ('' for none): the same characters as JSON.stringify of the sorted [key, value]
 * pairs, written pair by pair so that no array is built per pair (every Encrypt and Decrypt makes one).
 */
export function canonicalEncryptionContextText(context: EncryptionContext | undefined): string {
  if (!context) return '';
  const keys = Object.keys(context);
  if (keys.length === 0) return '';
  if (keys.length > 1) keys.sort();
  let text = '[';
  for (let index = 0; index < keys.length; index++) {
    const key = keys[index]!;
    // `?? 'null'`: as JSON.stringify writes an undefined array element.
    text += `${index === 0 ? '' : ','}[${JSON.stringify(key)},${JSON.stringify(context[key]) ?? 'null'}]`;
  }
  return `${text}]`;
}
