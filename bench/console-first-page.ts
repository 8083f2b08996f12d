/**
 * The web console's first page over a large corpus (issue 18): how long from the sign-in click until the first
 * page of secrets is on screen, measured by the page itself (performance.measure
 * 'console:sign-in-to-first-page': GetCallerIdentity, then ListSecrets, then the render), in Debian's Chromium
 * driven by playwright-core. The same measurement over a server holding 10 secrets runs in the same process as
 * the peer the large figure is compared with.
 *
 *   npm run bench:console [-- --secrets 100000 --runs 7]
 *
 * The corpus is seeded in-process (bench/seed.ts: the real pipeline, on tmpfs), then each server runs as
 * `coffer server` from a snapshot of dist/ (which holds the console's build).
 */
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium, type Browser } from 'playwright-core';
import { sendSigned } from './aws-call.js';
import { removeSnapshot, snapshotBuild } from './coffer-build.js';
import { DEV_KEY, killAllPeers, startCoffer, type Peer } from './peers.js';
import { seedCoffer } from './seed.js';
import { Signer } from './signer.js';

function option(name: string, fallback: number): number {
  const at = process.argv.indexOf(`--${name}`);
  return at === -1 ? fallback : Number(process.argv[at + 1]);
}

const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)]!;

/** Signs in `runs` times (a fresh page each time) and returns the page's own measurements, in ms. */
async function firstPageTimes(browser: Browser, server: Peer, runs: number): Promise<number[]> {
  const times: number[] = [];
  for (let run = 0; run < runs; run += 1) {
    const page = await browser.newPage();
    await page.goto(`http://127.0.0.1:${server.port}/console/`);
    await page.fill('#access-key-id', DEV_KEY.accessKeyId);
    await page.fill('#secret-access-key', DEV_KEY.secretAccessKey);
    await page.click('#sign-in');
    await page.waitForSelector('#secrets-table');
    const [duration] = await page.evaluate(() => performance.getEntriesByName('console:sign-in-to-first-page').map((entry) => entry.duration));
    if (duration === undefined) throw new Error('the page recorded no console:sign-in-to-first-page measure');
    times.push(duration);
    await page.close();
  }
  return times;
}

/** VerifyAuditChain (Coffer's, for the console's audit page) over the server's whole log: its time, in ms. */
async function verifyChainTime(server: Peer, signer: Signer): Promise<{ ms: number; events: number }> {
  const started = performance.now();
  const answer = await sendSigned(server.url, signer.sign(server.host, 'cloudtrail', 'com.amazonaws.cloudtrail.v20131101.CloudTrail_20131101.VerifyAuditChain', '{}'));
  if (answer.status !== 200 || answer.json.Intact !== true) throw new Error(`VerifyAuditChain answered ${answer.status}: ${answer.text.slice(0, 200)}`);
  return { ms: performance.now() - started, events: answer.json.EventsVerified };
}

async function main(): Promise<void> {
  const secrets = option('secrets', 100_000);
  const runs = option('runs', 7);
  const work = mkdtempSync(join(tmpdir(), 'coffer-console-bench-'));
  const scratch = existsSync('/dev/shm') ? mkdtempSync('/dev/shm/coffer-console-bench-') : join(work, 'scratch');
  let browser: Browser | undefined;
  try {
    snapshotBuild();
    const signer = new Signer(DEV_KEY);
    const large = await seedCoffer(join(work, 'large'), scratch, secrets, signer);
    process.stdout.write(`seeded ${secrets} secrets in ${large.seconds.toFixed(1)} s\n`);
    await seedCoffer(join(work, 'small'), scratch, 10, signer);
    browser = await chromium.launch({ executablePath: '/usr/bin/chromium', args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking'] });
    const results: Record<string, number[]> = {};
    for (const [label, dir] of [
      ['10 secrets', 'small'],
      [`${secrets} secrets`, 'large'],
    ] as const) {
      const server = await startCoffer({ dataDir: join(work, dir) });
      try {
        await firstPageTimes(browser, server, 1); // warm-up: the server's first ListSecrets and the page's first load
        results[label] = await firstPageTimes(browser, server, runs);
        const verified = [await verifyChainTime(server, signer), await verifyChainTime(server, signer), await verifyChainTime(server, signer)];
        process.stdout.write(`${label}: VerifyAuditChain over ${verified[2]!.events} events median ${median(verified.map((run) => run.ms)).toFixed(0)} ms\n`);
      } finally {
        await server.stop();
      }
    }
    const [small, big] = Object.values(results) as [number[], number[]];
    for (const [label, times] of Object.entries(results)) {
      process.stdout.write(`${label}: sign-in to first page median ${median(times).toFixed(0)} ms (runs: ${times.map((time) => time.toFixed(0)).join(', ')})\n`);
    }
    process.stdout.write(`ratio ${secrets} / 10 secrets: ${(median(big) / median(small)).toFixed(2)}\n`);
  } finally {
    await browser?.close();
    killAllPeers();
    removeSnapshot();
    for (const dir of [work, scratch]) rmSync(dir, { recursive: true, force: true });
  }
}

await main();
