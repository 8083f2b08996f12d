/**
 * What a write changed, as the backends' read caches see it: the secrets it wrote, by ARN. Such a write empties only
 * those secrets' entries (the secret by ARN and by name, its versions by id and by stage); a write without a scope
 * (IAM, keys, grants, parameters, anything not clearly one secret's) empties everything. A method names a scope only
 * when every row it may change belongs to those secrets or to tables nothing reads through the cache.
 */
export type WriteScope = { readonly secretArns: readonly string[] };

/** The scope of a cached secret record: its own ARN. */
export const secretScope = (secret: { arn: string }): string => secret.arn;

/** The scope of a cached version record: its secret's ARN. */
export const versionScope = (version: { secretArn: string }): string => version.secretArn;

/**
 * The cache keys held for each scope, so a scoped write finds its secret's entries without walking the cache (a
 * by-name entry is found through the ARN its record names: a deleted name re-created is another ARN).
 */
export class ScopedKeys {
  #keys = new Map<string, Set<string>>();

  add(scope: string, key: string): void {
    const keys = this.#keys.get(scope);
    if (keys) keys.add(key);
    else this.#keys.set(scope, new Set([key]));
  }

  remove(scope: string, key: string): void {
    const keys = this.#keys.get(scope);
    if (!keys) return;
    keys.delete(key);
    if (keys.size === 0) this.#keys.delete(scope);
  }

  /** The keys held for `scope`, forgotten here: the caller deletes their entries. */
  take(scope: string): Iterable<string> {
    const keys = this.#keys.get(scope);
    if (!keys) return [];
    this.#keys.delete(scope);
    return keys;
  }

  clear(): void {
    if (this.#keys.size > 0) this.#keys = new Map();
  }
}
