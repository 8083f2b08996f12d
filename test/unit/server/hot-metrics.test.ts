import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { AggregatorRegistry, Counter, Histogram, Registry } from 'prom-client';
import { HotCounter, HotHistogram } from '../../../src/server/hot-metrics.js';

const BUCKETS = [0.001, 0.01, 0.1];
const OBSERVED = [0.0005, 0.001, 0.005, 0.01, 0.05, 0.1, 2, 0.0001];

/** The page lines of one metric, without HELP/TYPE, sorted (label order inside a line aside). */
async function lines(registry: Registry): Promise<string[]> {
  const text = await registry.metrics();
  return text.split('\n').filter((line) => line && !line.startsWith('#')).map(normalise).sort();
}

/** `name{b="2",a="1"} v` → `name{a="1",b="2"} v`: prom-client and HotHistogram order labels differently. */
function normalise(line: string): string {
  const match = /^([^{ ]+)(?:\{(.*)\})? (.*)$/.exec(line)!;
  const labels = match[2] ? match[2].split(',').sort().join(',') : '';
  return `${match[1]}{${labels}} ${match[3]}`;
}

describe('hot metrics', () => {
  it('a HotHistogram writes what prom-client\'s Histogram writes for the same observations (inclusive upper bounds, +Inf, sum, count)', async () => {
    const ours = new Registry();
    const theirs = new Registry();
    const hot = new HotHistogram({ name: 'latency_seconds', help: 'h', labelNames: ['operation'], buckets: BUCKETS, registers: [ours] });
    const reference = new Histogram({ name: 'latency_seconds', help: 'h', labelNames: ['operation'], buckets: BUCKETS, registers: [theirs] });
    const child = hot.labels('GetSecretValue');
    for (const value of OBSERVED) {
      child.observe(value);
      reference.observe({ operation: 'GetSecretValue' }, value);
    }
    hot.labels('Decrypt').observe(0.02);
    reference.observe({ operation: 'Decrypt' }, 0.02);
    assert.deepEqual(await lines(ours), await lines(theirs));
    assert.ok((await lines(ours)).includes('latency_seconds_bucket{le="0.001",operation="GetSecretValue"} 3'), 'a value equal to a bound is in its bucket');
  });

  it('a HotCounter writes what prom-client\'s Counter writes, and one label set is one child', async () => {
    const ours = new Registry();
    const theirs = new Registry();
    const hot = new HotCounter({ name: 'calls_total', help: 'c', labelNames: ['service', 'outcome'], registers: [ours] });
    const reference = new Counter({ name: 'calls_total', help: 'c', labelNames: ['service', 'outcome'], registers: [theirs] });
    assert.equal(hot.labels('kms', 'success'), hot.labels('kms', 'success'));
    for (let index = 0; index < 5; index++) {
      hot.labels('kms', 'success').inc();
      reference.inc({ service: 'kms', outcome: 'success' });
    }
    hot.labels('secretsmanager', 'client_error').inc();
    reference.inc({ service: 'secretsmanager', outcome: 'client_error' });
    assert.deepEqual(await lines(ours), await lines(theirs));
    assert.throws(() => hot.labels('kms'), /takes 2 label values/);
  });

  it('the workers of a cluster sum bucket by bucket', async () => {
    const workers = [new Registry(), new Registry()];
    workers.forEach((registry, index) => {
      const histogram = new HotHistogram({ name: 'latency_seconds', help: 'h', buckets: BUCKETS, registers: [registry] });
      for (let count = 0; count <= index; count++) histogram.labels().observe(0.005);
    });
    const summed = AggregatorRegistry.aggregate(await Promise.all(workers.map((registry) => registry.getMetricsAsJSON())));
    const text = await summed.metrics();
    assert.match(text, /^latency_seconds_bucket\{le="0\.01"\} 3$/m);
    assert.match(text, /^latency_seconds_bucket\{le="0\.001"\} 0$/m);
    assert.match(text, /^latency_seconds_count 3$/m);
  });
});
