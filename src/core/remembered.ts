/**
 * `compute` with its answers kept for the last distinct keys seen (at most `limit`, then forgotten together): for
 * pure functions of values that repeat from call to call on a hot path (operation names, principal ARNs, backing
 * key ids), where a Map lookup costs less than computing the answer again. With `longestKey`, a longer key (one a
 * caller chose, that no well-behaved client sends) is computed each time and not kept, so a caller cannot make
 * the process hold large strings.
 */
export function remembered<T>(
  compute: (key: string) => T,
  { limit = 1024, longestKey = Number.POSITIVE_INFINITY }: { limit?: number; longestKey?: number } = {},
): (key: string) => T {
  const answers = new Map<string, T>();
  return (key) => {
    if (key.length > longestKey) return compute(key);
    let answer = answers.get(key);
    if (answer === undefined) {
      answer = compute(key);
      if (answers.size >= limit) answers.clear();
      answers.set(key, answer);
    }
    return answer;
  };
}
