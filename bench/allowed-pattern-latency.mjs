// The cost of an AllowedPattern check, old (V8 backtracking in the event loop) against new (src/ssm/allowed-pattern.ts):
// medians of 2,000 sequential checks, 3 alternated rounds. `npm run build && node bench/allowed-pattern-latency.mjs`.
import { assertMatchesAllowedPattern } from '../dist/ssm/allowed-pattern.js';
const med = (a) => { a = [...a].sort((x, y) => x - y); return a[a.length >> 1]; };
async function measure(pattern, value, n = 2000) {
  const times = [];
  for (let i = 0; i < n; i++) { const t = performance.now(); await assertMatchesAllowedPattern(value, pattern); times.push(performance.now() - t); }
  return med(times) * 1000;
}
function old(pattern, value, n = 2000) {
  const times = [];
  for (let i = 0; i < n; i++) { const t = performance.now(); new RegExp(pattern, 'u').test(value); times.push(performance.now() - t); }
  return med(times) * 1000;
}
for (const [p, v] of [['^\\d+$', '5432'], ['^[a-z0-9-]{1,64}$', 'db-primary-01'], ['^[a-z0-9-]{1,64}$', 'x'.repeat(60)]]) {
  await measure(p, v, 200);
  const rounds = [];
  for (let r = 0; r < 3; r++) rounds.push([old(p, v), await measure(p, v)]);
  console.log(p, JSON.stringify(v.slice(0, 12)), 'old µs', rounds.map((x) => x[0].toFixed(1)).join('/'), 'new µs', rounds.map((x) => x[1].toFixed(1)).join('/'));
}
