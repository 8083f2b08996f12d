import { spawn } from 'node:child_process';
import { childEnv } from './child-server.js';

export type MetricSample = { name: string; labels: Record<string, string>; value: number };
export type MetricFamily = { name: string; type: string; samples: MetricSample[] };

/** Debian's python3-prometheus-client lives here; the machine's python3 (pyenv) does not look there itself. */
const DIST_PACKAGES = '/usr/lib/python3/dist-packages';

/** The reference parser: Python's prometheus_client reads the text and hands back every family and sample. */
const PARSER = `
import json, math, sys
from prometheus_client.parser import text_string_to_metric_families
families = []
for family in text_string_to_metric_families(sys.stdin.read()):
    samples = [{"name": s.name, "labels": s.labels, "value": s.value if math.isfinite(s.value) else str(s.value)} for s in family.samples]
    families.append({"name": family.name, "type": family.type, "samples": samples})
print(json.dumps(families))
`;

/** GET /metrics, with a bearer token when given. */
export async function scrape(url: string, token?: string): Promise<{ status: number; contentType: string | null; text: string }> {
  const response = await fetch(url, { headers: token === undefined ? {} : { authorization: `Bearer ${token}` } });
  return { status: response.status, contentType: response.headers.get('content-type'), text: await response.text() };
}

/** Parses Prometheus text with prometheus_client; rejects when the parser does (the text is not valid). */
export function parseMetrics(text: string): Promise<MetricFamily[]> {
  return new Promise((resolve, reject) => {
    const child = spawn('python3', ['-c', PARSER], { env: childEnv({ PYTHONPATH: DIST_PACKAGES }), stdio: ['pipe', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
    child.on('error', reject);
    child.on('close', (code) => {
      if (code !== 0) return reject(new Error(`prometheus_client could not parse the metrics (exit ${code}):\n${stderr}`));
      resolve(JSON.parse(stdout) as MetricFamily[]);
    });
    child.stdin.end(text);
  });
}

/** The value of the one sample named `name` whose labels include `labels` (0 when there is none). */
export function sampleValue(families: MetricFamily[], name: string, labels: Record<string, string> = {}): number {
  const matches = families
    .flatMap((family) => family.samples)
    .filter((sample) => sample.name === name && Object.entries(labels).every(([key, value]) => sample.labels[key] === value));
  if (matches.length > 1) throw new Error(`${matches.length} samples of ${name} match ${JSON.stringify(labels)}`);
  return matches[0]?.value ?? 0;
}

/** Scrapes and parses in one step. */
export async function scrapeParsed(url: string, token?: string): Promise<MetricFamily[]> {
  const scraped = await scrape(url, token);
  if (scraped.status !== 200) throw new Error(`GET ${url} answered ${scraped.status}: ${scraped.text}`);
  return parseMetrics(scraped.text);
}
