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

/**
 * `remembered`, with the last key's answer in front: where the calls that follow one another mostly pass the same
 * text (one client's SignedHeaders list, its credential), comparing a fresh string with the last one costs less
 * than hashing it for the Map (a 150-character list: ≈ 0.15 µs). Keys over `longestKey` are kept by neither.
 */
export function rememberedWithLast<T>(compute: (key: string) => T, longestKey: number): (key: string) => T {
  const answers = remembered(compute, { longestKey });
  let lastKey: string | undefined;
  let lastAnswer: T | undefined;
  return (key) => {
    if (key === lastKey) return lastAnswer!;
    const answer = answers(key);
    if (key.length <= longestKey) {
      lastKey = key;
      lastAnswer = answer;
    }
    return answer;
  };
}
