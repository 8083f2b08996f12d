import { existsSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { chromium, type Browser, type Locator, type Page } from 'playwright-core';
import { REPO_ROOT } from './child-server.js';

/** Debian's Chromium (`apt-get install -y chromium`; .ci/run installs it when missing). */
export const CHROMIUM = '/usr/bin/chromium';

/**
 * Where the browser tests write the console's screenshots: a scratch directory, removed when the tests end, so that
 * `npm test` leaves the checkout as it was; `npm run screenshots` sets COFFER_SCREENSHOT_DIR=docs/console to refresh
 * the committed ones the README shows.
 */
export const SCREENSHOT_DIR = process.env.COFFER_SCREENSHOT_DIR ? resolve(REPO_ROOT, process.env.COFFER_SCREENSHOT_DIR) : scratchScreenshotDir();

function scratchScreenshotDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'coffer-console-screenshots-'));
  process.once('exit', () => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

export async function launchChromium(extraArgs: string[] = []): Promise<Browser> {
  if (!existsSync(CHROMIUM)) throw new Error(`${CHROMIUM} is missing: apt-get install -y chromium (.ci/run does)`);
  return chromium.launch({ executablePath: CHROMIUM, headless: true, args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', ...extraArgs] });
}

/** Every message the page logged that says the CSP refused something (there must be none). */
export function collectCspViolations(page: Page): string[] {
  const violations: string[] = [];
  page.on('console', (message) => {
    if (/Content Security Policy|Refused to (load|apply|execute|connect)/i.test(message.text())) violations.push(message.text());
  });
  return violations;
}

export async function screenshot(page: Page, name: string): Promise<void> {
  mkdirSync(SCREENSHOT_DIR, { recursive: true });
  await page.evaluate(() => window.scrollTo(0, 0));
  await page.screenshot({ path: join(SCREENSHOT_DIR, `${name}.png`), fullPage: false });
}

/** A screenshot of one part of a page (a section). */
export async function screenshotOf(locator: Locator, name: string): Promise<void> {
  mkdirSync(SCREENSHOT_DIR, { recursive: true });
  await locator.screenshot({ path: join(SCREENSHOT_DIR, `${name}.png`) });
}

/** Signs in through the form and waits for the console's first page (the secrets list, or its refusal). */
export async function signIn(page: Page, url: string, keys: { accessKeyId: string; secretAccessKey: string }): Promise<void> {
  await page.goto(`${url}/console/`);
  await page.fill('#access-key-id', keys.accessKeyId);
  await page.fill('#secret-access-key', keys.secretAccessKey);
  await page.click('#sign-in');
  await page.waitForSelector('#caller-arn');
  await page.waitForSelector('#secrets-table, #no-secrets, main .error');
}
