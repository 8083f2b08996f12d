import type { Registry } from 'prom-client';

/**
 * A counter and a histogram for the request path, registered in a prom-client Registry like its own metrics.
 * prom-client's `inc()` and `observe()` turn the label set into a hash string on every call (measured at about
 * 0.2 µs each, bench/RESULTS.md "Metrics"); here each label set is a child made once, and a call on it only adds
 * numbers: nothing is allocated or hashed per request. prom-client still writes the page (and sums the workers
 * of a cluster) from what `get()` returns, in its own metric shape.
 */

type Labels = Record<string, string>;
type MetricValue = { value: number; labels: Labels | Record<string, string | number>; metricName?: string };
type MetricObject = { name: string; help: string; type: 'counter' | 'histogram'; values: MetricValue[]; aggregator: 'sum' };

/** Children by their label values, made on first use; `key` joins the values, which only happens then. */
abstract class Labelled<C> {
  readonly name: string;
  readonly help: string;
  protected readonly labelNames: readonly string[];
  protected readonly children = new Map<string, { labels: Labels; child: C }>();

  constructor(options: { name: string; help: string; labelNames?: readonly string[]; registers: Registry[] }) {
    this.name = options.name;
    this.help = options.help;
    this.labelNames = options.labelNames ?? [];
    for (const registry of options.registers) registry.registerMetric(this as never);
  }

  /** The child of these label values (in labelNames order): keep it, and call it on the hot path. */
  labels(...values: string[]): C {
    if (values.length !== this.labelNames.length) throw new Error(`${this.name} takes ${this.labelNames.length} label values`);
    const key = values.join('\0');
    let entry = this.children.get(key);
    if (!entry) {
      entry = { labels: Object.fromEntries(this.labelNames.map((name, index) => [name, values[index]!])), child: this.newChild() };
      this.children.set(key, entry);
    }
    return entry.child;
  }

  protected abstract newChild(): C;
  abstract get(): Promise<MetricObject>;
}

export type HotCounterChild = { value: number; inc(): void };

export class HotCounter extends Labelled<HotCounterChild> {
  protected newChild(): HotCounterChild {
    return {
      value: 0,
      inc() {
        this.value += 1;
      },
    };
  }

  async get(): Promise<MetricObject> {
    const values = [...this.children.values()].map(({ labels, child }) => ({ value: child.value, labels }));
    return { name: this.name, help: this.help, type: 'counter', values, aggregator: 'sum' };
  }
}

export type HotHistogramChild = { observe(value: number): void };

/** Buckets are upper bounds, inclusive (`le`), as Prometheus and prom-client have them; +Inf is added. */
export class HotHistogram extends Labelled<HotHistogramChild & { counts: Float64Array; sum: number; count: number }> {
  readonly #buckets: readonly number[];

  constructor(options: { name: string; help: string; labelNames?: readonly string[]; buckets: readonly number[]; registers: Registry[] }) {
    super(options);
    this.#buckets = [...options.buckets].sort((a, b) => a - b);
  }

  protected newChild() {
    const buckets = this.#buckets;
    return {
      counts: new Float64Array(buckets.length + 1),
      sum: 0,
      count: 0,
      observe(value: number) {
        let index = 0;
        while (index < buckets.length && value > buckets[index]!) index++;
        this.counts[index]! += 1;
        this.sum += value;
        this.count += 1;
      },
    };
  }

  async get(): Promise<MetricObject> {
    const values: MetricValue[] = [];
    for (const { labels, child } of this.children.values()) {
      let cumulative = 0;
      this.#buckets.forEach((bound, index) => {
        cumulative += child.counts[index]!;
        values.push({ value: cumulative, labels: { ...labels, le: bound }, metricName: `${this.name}_bucket` });
      });
      values.push({ value: child.count, labels: { ...labels, le: '+Inf' }, metricName: `${this.name}_bucket` });
      values.push({ value: child.sum, labels, metricName: `${this.name}_sum` });
      values.push({ value: child.count, labels, metricName: `${this.name}_count` });
    }
    return { name: this.name, help: this.help, type: 'histogram', values, aggregator: 'sum' };
  }
}
