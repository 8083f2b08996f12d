import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { CreateOpenIDConnectProviderCommand, CreateRoleCommand, PutRolePolicyCommand } from '@aws-sdk/client-iam';
import { CreateFunctionCommand } from '@aws-sdk/client-lambda';
import { CreateSecretCommand, DescribeSecretCommand, GetSecretValueCommand, ListSecretVersionIdsCommand, type SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { auditEvents } from '../helpers/audit.js';
import { collectCspViolations, launchChromium, screenshot, screenshotOf, signIn } from '../helpers/browser.js';
import { startHttpRotationFunction, type HttpRotationFunction } from '../helpers/http-rotation-function.js';
import { lambdaClient } from '../helpers/lambda.js';
import { startTestIssuer } from '../helpers/oidc-issuer.js';
import { createUser, iamClient } from '../helpers/principals.js';
import { secretsClient } from '../helpers/secrets.js';
import { startTestServer, type TestServer } from '../helpers/start-server.js';

/**
 * The web console end to end, in Debian's Chromium driven by playwright-core, against a real server: every
 * action is the browser's own signed API call. Screenshots of the main pages go to a scratch directory (docs/console/ with `npm run screenshots`).
 */
describe('the web console in a browser', () => {
  let server: TestServer;
  let sm: SecretsManagerClient;
  let browser: Browser;
  let context: BrowserContext;
  let page: Page;
  let violations: string[];
  let rotationFunction: HttpRotationFunction;
  let brokenFunction: Server;
  const secretName = 'console/app-database';
  const rotatorArn = 'arn:aws:lambda:us-east-1:000000000000:function:console-rotator';
  const brokenArn = 'arn:aws:lambda:us-east-1:000000000000:function:console-broken-rotator';

  before(async () => {
    server = await startTestServer();
    sm = secretsClient(server);
    rotationFunction = await startHttpRotationFunction({ nodes: () => new Map([[process.pid, server.url]]), credentials: server.admin });
    // A rotation function whose createSecret fails as a Lambda does: a Lambda-shaped error document.
    brokenFunction = createServer((request, response) => {
      request.resume();
      request.on('end', () => {
        response.writeHead(500, { 'content-type': 'application/json' });
        response.end(JSON.stringify({ errorType: 'DatabaseUnreachable', errorMessage: 'could not connect to the database' }));
      });
    });
    await new Promise<void>((resolve) => brokenFunction.listen(0, '127.0.0.1', resolve));
    const lambda = lambdaClient(server);
    for (const [name, url] of [
      ['console-rotator', rotationFunction.url],
      ['console-broken-rotator', `http://127.0.0.1:${(brokenFunction.address() as AddressInfo).port}/`],
    ] as const) {
      await lambda.send(new CreateFunctionCommand({ FunctionName: name, Runtime: 'coffer-http' as never, Role: undefined, Code: {}, Timeout: 30, Environment: { Variables: { COFFER_FUNCTION_URL: url } } }));
    }
    lambda.destroy();
    for (const [name, description] of [
      ['console/payments-api-key', 'Payments provider API key'],
      ['console/smtp-relay', 'Outgoing mail relay credentials'],
      ['console/analytics-token', 'Read-only analytics token'],
    ]) {
      await sm.send(new CreateSecretCommand({ Name: name, Description: description, SecretString: 'seeded value', Tags: [{ Key: 'team', Value: 'platform' }] }));
    }
    browser = await launchChromium();
    context = await browser.newContext({ viewport: { width: 1280, height: 860 }, colorScheme: 'light' });
    page = await context.newPage();
    violations = collectCspViolations(page);
  });
  after(async () => {
    await browser?.close();
    await rotationFunction?.close();
    brokenFunction?.closeAllConnections();
    await new Promise((resolve) => brokenFunction?.close(resolve));
    sm?.destroy();
    await server?.cleanup();
  });

  const outcomeText = () => page.textContent('#rotation-outcome');
  /** Clicks Refresh until the last rotation outcome matches (the rotation runs after RotateSecret answers). */
  async function waitForOutcome(pattern: RegExp): Promise<string> {
    const deadline = Date.now() + 15_000;
    for (;;) {
      await server.server.coffer.rotation.idle();
      await page.click('#refresh-rotation');
      await page.waitForTimeout(150);
      const text = (await outcomeText()) ?? '';
      if (pattern.test(text)) return text;
      if (Date.now() > deadline) throw new Error(`rotation outcome still "${text}"`);
    }
  }

  it('signs in with an access key pair and lists the secrets', async () => {
    await page.goto(`${server.url}/console/`);
    await page.waitForSelector('#sign-in');
    await screenshot(page, 'sign-in-light');
    await signIn(page, server.url, server.admin);
    assert.match((await page.textContent('#caller-arn')) ?? '', /^arn:aws:iam::000000000000:/);
    const names = await page.locator('#secrets-table tbody tr td:first-child a').allTextContents();
    assert.ok(names.includes('console/payments-api-key'), names.join(', '));
    await screenshot(page, 'secrets-light');
  });

  it('filters the list by a search term and by a tag', async () => {
    await page.fill('input[name=search]', 'smtp');
    await page.click('form.filters button[type=submit]');
    await page.waitForFunction(() => document.querySelectorAll('#secrets-table tbody tr').length === 1);
    assert.deepEqual(await page.locator('#secrets-table tbody tr td:first-child a').allTextContents(), ['console/smtp-relay']);
    await page.fill('input[name=search]', '');
    await page.fill('input[name=tagKey]', 'no-such-tag');
    await page.click('form.filters button[type=submit]');
    await page.waitForSelector('#no-secrets');
    await page.fill('input[name=tagKey]', '');
    await page.click('form.filters button[type=submit]');
    await page.waitForSelector('#secrets-table');
  });

  it('creates a key/value secret with the JSON editor', async () => {
    await page.click('#new-secret');
    await page.fill('#secret-name', secretName);
    await page.fill('#secret-description', 'Application database login');
    await page.fill('input[aria-label="Key 1"]', 'username');
    await page.fill('input[aria-label="Value 1"]', 'app');
    await page.click('#add-pair');
    await page.fill('input[aria-label="Key 2"]', 'password');
    await page.fill('input[aria-label="Value 2"]', 'initial-pa55word');
    await page.click('#create-secret');
    await page.waitForSelector('#secret-title');
    assert.equal(await page.textContent('#secret-title'), secretName);
    const stored = await sm.send(new GetSecretValueCommand({ SecretId: secretName }));
    assert.deepEqual(JSON.parse(stored.SecretString!), { username: 'app', password: 'initial-pa55word' });
  });

  it('reveals the value on click only, and the reveal is audited', async () => {
    assert.equal(await page.locator('#secret-value').count(), 0, 'no value on the page before the click');
    assert.doesNotMatch(await page.content(), /initial-pa55word/);
    const readsBefore = auditEvents(server.dataDir).filter((event) => event.eventName === 'GetSecretValue').length;
    await page.click('#reveal');
    await page.waitForSelector('#secret-value');
    assert.deepEqual(JSON.parse((await page.textContent('#secret-value'))!), { username: 'app', password: 'initial-pa55word' });
    const reads = auditEvents(server.dataDir).filter((event) => event.eventName === 'GetSecretValue');
    assert.equal(reads.length, readsBefore + 1);
    assert.equal(reads.at(-1)!.userIdentity.accessKeyId, server.admin.accessKeyId);
    await page.click('#hide');
    assert.equal(await page.locator('#secret-value').count(), 0);
    // The secret's own recent activity names the read and who made it.
    await page.click('#refresh-activity');
    await page.waitForFunction(() => [...document.querySelectorAll('#activity td.event-name')].some((cell) => cell.textContent === 'GetSecretValue'));
    assert.match((await page.textContent('#activity tbody'))!, /CreateSecret/);
  });

  it('hides a revealed value again after 30 seconds', async () => {
    const timed = await context.newPage();
    await timed.clock.install();
    await signIn(timed, server.url, server.admin);
    await timed.click(`#secrets-table a:text-is("${secretName}")`);
    await timed.click('#reveal');
    await timed.waitForSelector('#secret-value');
    await timed.clock.fastForward('00:29');
    assert.equal(await timed.locator('#secret-value').count(), 1, 'still shown after 29 s');
    await timed.clock.fastForward('00:02');
    await timed.waitForSelector('#reveal');
    assert.equal(await timed.locator('#secret-value').count(), 0);
    await timed.close();
  });

  it('puts a new value through the key/value editor; the versions show the labels moving', async () => {
    await page.click('#reveal');
    await page.waitForSelector('#secret-value');
    await page.click('#edit-value');
    assert.equal(await page.inputValue('input[aria-label="Value 2"]'), 'initial-pa55word', 'the editor starts from the revealed value');
    // A password of digits stays a string in the stored JSON.
    await page.fill('input[aria-label="Value 2"]', '20261206');
    await page.click('#save-value');
    await page.waitForSelector('#put-status');
    const stored = await sm.send(new GetSecretValueCommand({ SecretId: secretName }));
    assert.deepEqual(JSON.parse(stored.SecretString!), { username: 'app', password: '20261206' });
    await page.waitForFunction(() => document.querySelector('#versions-table')?.textContent?.includes('AWSPREVIOUS'));
    assert.equal(await page.locator('#versions-table tbody tr').count(), 2);
    await screenshot(page, 'secret-light');
  });

  it('rotates the secret now with an HTTP rotation function and shows the success', async () => {
    await page.fill('#rotation-function', rotatorArn);
    await page.fill('#rotation-schedule', '30');
    await page.click('#rotate-now');
    await page.waitForSelector('#rotation-started');
    const token = (await page.textContent('#rotation-started code'))!;
    assert.match(await waitForOutcome(/succeeded/), /succeeded/);
    assert.equal((await sm.send(new GetSecretValueCommand({ SecretId: secretName }))).SecretString, rotationFunction.valueFor(token));
    await page.reload();
  });

  it('shows the failing step of a broken rotation', async () => {
    await signIn(page, server.url, server.admin);
    const broken = await sm.send(new CreateSecretCommand({ Name: 'console/broken-rotation', SecretString: 'value' }));
    await page.goto(`${server.url}/console/#/secret/${encodeURIComponent(broken.ARN!)}`);
    await page.waitForSelector('#rotation-function');
    await page.fill('#rotation-function', brokenArn);
    await page.click('#rotate-now');
    await page.waitForSelector('#rotation-started');
    const outcome = await waitForOutcome(/failed/);
    assert.match(outcome, /failed at step createSecret \(DatabaseUnreachable\), attempt 1/);
    await screenshotOf(page.locator('#rotation'), 'rotation-failed');
    // The function's message is never shown: it may quote anything (AWS's events carry only the error code).
    assert.doesNotMatch(await page.content(), /could not connect to the database/);
    const versions = await sm.send(new ListSecretVersionIdsCommand({ SecretId: broken.ARN }));
    assert.ok(versions.Versions!.some((version) => version.VersionStages?.includes('AWSPENDING')));
  });

  it('shows the audit trail with filters, the chart and the verified chain', async () => {
    await page.click('a[href="#/audit"]');
    await page.waitForSelector('#audit-list .audit-table');
    const names = await page.locator('#audit-list td.event-name').allTextContents();
    for (const name of ['GetSecretValue', 'PutSecretValue', 'RotateSecret', 'RotationFailed', 'RotationSucceeded']) assert.ok(names.includes(name), `${name} in ${names.join(', ')}`);
    assert.equal(await page.locator('#calls-chart rect').count() > 0, true);
    await page.click('#verify-chain');
    await page.waitForSelector('#chain-state .ok');
    assert.match((await page.textContent('#chain-state'))!, /Hash chain intact: \d+ events verified/);
    await screenshot(page, 'audit-light');
    await page.selectOption('select[name=attribute]', 'EventName');
    await page.fill('#audit-value', 'GetSecretValue');
    await page.click('#audit-filter');
    await page.waitForFunction(() => [...document.querySelectorAll('#audit-list td.event-name')].every((cell) => cell.textContent === 'GetSecretValue'));
    assert.ok((await page.locator('#audit-list tbody tr').count()) >= 2);
  });

  it('shows keys and identities, in light and dark', async () => {
    await page.click('a[href="#/keys"]');
    await page.waitForSelector('#keys-table');
    assert.match((await page.textContent('#keys-table'))!, /alias\/aws\/secretsmanager/);
    await screenshot(page, 'keys-light');
    await page.click('a[href="#/identity"]');
    await page.waitForSelector('#users-table');
    await page.click('.theme-toggle');
    await page.waitForFunction(() => document.documentElement.dataset.theme === 'dark');
    await screenshot(page, 'identity-dark');
    for (const [route, name, ready] of [
      ['#/secrets', 'secrets-dark', '#secrets-table'],
      ['#/audit', 'audit-dark', '#audit-list .audit-table'],
      ['#/keys', 'keys-dark', '#keys-table'],
    ]) {
      await page.click(`a[href="${route}"]`);
      await page.waitForSelector(ready!);
      await screenshot(page, name!);
    }
    await page.click('.theme-toggle');
    await page.waitForFunction(() => document.documentElement.dataset.theme === 'light');
  });

  it("schedules a secret's deletion with a recovery window and restores it", async () => {
    const doomed = await sm.send(new CreateSecretCommand({ Name: 'console/to-delete', SecretString: 'value' }));
    await page.goto(`${server.url}/console/#/secret/${encodeURIComponent(doomed.ARN!)}`);
    await page.waitForSelector('#delete-secret');
    await page.fill('#recovery-days', '7');
    await page.click('#delete-secret');
    await page.waitForSelector('#deletion-state');
    const described = await sm.send(new DescribeSecretCommand({ SecretId: doomed.ARN }));
    assert.ok(described.DeletedDate, 'DeleteSecret went through');
    await page.click('#restore-secret');
    await page.waitForSelector('#delete-secret');
    assert.equal((await sm.send(new DescribeSecretCommand({ SecretId: doomed.ARN }))).DeletedDate, undefined);
  });

  it('creates a key, schedules its deletion and cancels it', async () => {
    await page.click('a[href="#/keys"]');
    await page.click('#create-key');
    await page.waitForSelector('#schedule-key-deletion');
    assert.match((await page.textContent('#key-state'))!, /Enabled/);
    await page.waitForFunction(() => document.querySelector('#key-policy pre')?.textContent?.includes('"kms:*"'));
    await page.fill('#key-pending-days', '7');
    await page.click('#schedule-key-deletion');
    await page.waitForSelector('#cancel-key-deletion');
    assert.match((await page.textContent('#key-state'))!, /PendingDeletion/);
    await page.click('#cancel-key-deletion');
    await page.waitForSelector('#schedule-key-deletion');
    assert.match((await page.textContent('#key-state'))!, /Disabled/);
  });

  it('creates a user and an access key whose secret is shown once, and that key signs in', async () => {
    await page.click('a[href="#/identity"]');
    await page.fill('input[name=userName]', 'console-operator');
    await page.click('.inline-form button[type=submit]');
    await page.waitForSelector('#users-table td:text-is("console-operator")');
    await page.click('#users-table tr:has(td:text-is("console-operator")) button');
    await page.click('#create-access-key');
    await page.waitForSelector('#new-secret-access-key');
    const created = { accessKeyId: (await page.textContent('#new-access-key-id'))!, secretAccessKey: (await page.textContent('#new-secret-access-key'))! };
    await page.click('#new-access-key button');
    assert.equal(await page.locator('#new-secret-access-key').count(), 0, 'shown once: gone after Done');
    const other = await browser.newPage();
    await signIn(other, server.url, created);
    assert.match((await other.textContent('#caller-arn'))!, /:user\/console-operator$/);
    // The new user has no policy yet: the list is refused, and the page says so.
    assert.match((await other.textContent('main .error'))!, /^AccessDeniedException: /);
    await other.close();
  });

  it('signs in with web identity: an OpenID Connect token and a role', async () => {
    const issuer = await startTestIssuer();
    const iam = iamClient(server, server.admin);
    try {
      const provider = await iam.send(new CreateOpenIDConnectProviderCommand({ Url: issuer.url, ClientIDList: ['coffer-console'] }));
      const trust = {
        Version: '2012-10-17',
        Statement: [{ Effect: 'Allow', Principal: { Federated: provider.OpenIDConnectProviderArn }, Action: 'sts:AssumeRoleWithWebIdentity', Condition: { StringEquals: { [`${issuer.host}:aud`]: 'coffer-console' } } }],
      };
      const role = await iam.send(new CreateRoleCommand({ RoleName: 'console-web-operator', AssumeRolePolicyDocument: JSON.stringify(trust) }));
      await iam.send(new PutRolePolicyCommand({ RoleName: 'console-web-operator', PolicyName: 'list', PolicyDocument: JSON.stringify({ Version: '2012-10-17', Statement: [{ Effect: 'Allow', Action: 'secretsmanager:ListSecrets', Resource: '*' }] }) }));
      const other = await browser.newPage();
      await other.goto(`${server.url}/console/`);
      await other.click('#mode-web-identity');
      await other.fill('#role-arn', role.Role!.Arn!);
      await other.fill('#web-identity-token', issuer.token({ sub: 'operator@example.com', aud: 'coffer-console' }));
      await other.click('#sign-in');
      await other.waitForSelector('#secrets-table');
      assert.equal(await other.textContent('#caller-arn'), 'arn:aws:sts::000000000000:assumed-role/console-web-operator/coffer-console');
      const listed = auditEvents(server.dataDir).filter((event) => event.eventName === 'ListSecrets').at(-1)!;
      assert.equal(listed.userIdentity.type, 'AssumedRole');
      await other.close();
    } finally {
      iam.destroy();
      await issuer.close();
    }
  });

  it('says so on a page that is not a secure context (plain HTTP on a name other than localhost)', async () => {
    // coffer.test resolves to the server only inside this browser; over plain HTTP it is not a secure context.
    const elsewhere = await launchChromium(['--host-resolver-rules=MAP coffer.test 127.0.0.1']);
    try {
      const insecure = await elsewhere.newPage();
      await insecure.goto(`http://coffer.test:${new URL(server.url).port}/console/`);
      await insecure.waitForSelector('#insecure-context');
      assert.equal(await insecure.evaluate(() => window.isSecureContext), false);
    } finally {
      await elsewhere.close();
    }
  });

  it('refuses a wrong secret key at sign-in with the AWS error', async () => {
    const other = await browser.newPage();
    await other.goto(`${server.url}/console/`);
    await other.fill('#access-key-id', server.admin.accessKeyId);
    await other.fill('#secret-access-key', 'not-the-secret-key');
    await other.click('#sign-in');
    await other.waitForSelector('.sign-in-card .error');
    assert.match((await other.textContent('.sign-in-card .error'))!, /SignatureDoesNotMatch|InvalidSignature/);
    await other.close();
  });

  it('signs out: the credentials are gone, nothing was stored in the browser', async () => {
    const stored = await page.evaluate(() => ({ local: localStorage.length, session: sessionStorage.length, cookie: document.cookie }));
    assert.deepEqual(stored, { local: 0, session: 0, cookie: '' });
    await page.click('#sign-out');
    await page.waitForSelector('#sign-in');
    assert.equal(await page.locator('#caller-arn').count(), 0);
    // A signed-out page cannot call anything: going back to a page shows the sign-in form again.
    await page.goto(`${server.url}/console/#/audit`);
    await page.waitForSelector('#sign-in');
    assert.deepEqual(violations, [], 'no Content-Security-Policy violation on any page');
  });

  it('a user whose policy denies reading sees the refusal, not the value', async () => {
    const { keys } = await createUser(server, server.admin, 'console-viewer', {
      policy: {
        Version: '2012-10-17',
        Statement: [
          { Effect: 'Allow', Action: ['secretsmanager:ListSecrets', 'secretsmanager:DescribeSecret', 'secretsmanager:ListSecretVersionIds', 'secretsmanager:GetResourcePolicy', 'secretsmanager:GetSecretValue', 'cloudtrail:LookupEvents'], Resource: '*' },
          { Effect: 'Deny', Action: 'secretsmanager:GetSecretValue', Resource: '*' },
        ],
      },
    });
    const viewer = await browser.newPage();
    await signIn(viewer, server.url, keys);
    await viewer.click(`#secrets-table a:text-is("${secretName}")`);
    await viewer.waitForSelector('#reveal');
    await viewer.click('#reveal');
    await viewer.waitForSelector('#value .error');
    assert.match((await viewer.textContent('#value .error'))!, /^AccessDeniedException: /);
    assert.equal(await viewer.locator('#secret-value').count(), 0);
    assert.doesNotMatch(await viewer.content(), /pa55word|20261206|rotated:/);
    await viewer.close();
  });

  it('is readable at phone width', async () => {
    const phone = await browser.newContext({ viewport: { width: 390, height: 844 }, deviceScaleFactor: 2, isMobile: true, hasTouch: true });
    const small = await phone.newPage();
    await signIn(small, server.url, server.admin);
    // Nothing wider than the screen but the tables, which scroll inside their own box.
    const overflow = await small.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
    assert.ok(overflow <= 1, `page is ${overflow}px wider than the phone`);
    await screenshot(small, 'secrets-phone');
    await small.click(`#secrets-table a:text-is("${secretName}")`);
    await small.waitForSelector('#versions-table');
    await screenshot(small, 'secret-phone');
    await phone.close();
  });

  it('pages through many secrets; the first page is timed in the browser (figure: bench/RESULTS.md, 100,000 secrets)', async (t) => {
    // 500 more secrets, 16 CreateSecret calls at a time (the 100,000-secret measurement is bench/console-first-page.ts).
    const names = Array.from({ length: 500 }, (_, index) => `console/bulk/${String(index).padStart(5, '0')}`);
    for (let start = 0; start < names.length; start += 16) {
      await Promise.all(names.slice(start, start + 16).map((name) => sm.send(new CreateSecretCommand({ Name: name, SecretString: 'bulk value' }))));
    }
    const paging = await browser.newPage();
    await signIn(paging, server.url, server.admin);
    const measured = await paging.evaluate(() => performance.getEntriesByName('console:sign-in-to-first-page').map((entry) => entry.duration));
    assert.equal(measured.length, 1, 'the page measured sign-in to first page');
    t.diagnostic(`sign-in to the first page of secrets over ${names.length + 5} secrets: ${measured[0]!.toFixed(0)} ms`);
    const firstPage = await paging.locator('#secrets-table tbody tr td:first-child a').allTextContents();
    assert.equal(firstPage.length, 25);
    await paging.click('#next-page');
    await paging.waitForFunction((first) => document.querySelector('#secrets-table tbody tr td a')?.textContent !== first, firstPage[0]);
    const secondPage = await paging.locator('#secrets-table tbody tr td:first-child a').allTextContents();
    assert.equal(secondPage.length, 25);
    assert.deepEqual(secondPage.filter((name) => firstPage.includes(name)), [], 'page 2 holds other secrets than page 1');
    assert.match((await paging.textContent('.pager'))!, /Page 2/);
    await paging.fill('input[name=search]', 'console/bulk/00499');
    await paging.click('form.filters button[type=submit]');
    await paging.waitForFunction(() => document.querySelectorAll('#secrets-table tbody tr').length === 1);
    await paging.close();
  });

  it('works with the keyboard alone: sign in and open a secret', async () => {
    const keyboard = await browser.newPage();
    await keyboard.goto(`${server.url}/console/`);
    await keyboard.focus('#access-key-id');
    await keyboard.keyboard.type(server.admin.accessKeyId);
    await keyboard.keyboard.press('Tab');
    await keyboard.keyboard.type(server.admin.secretAccessKey);
    await keyboard.keyboard.press('Enter');
    await keyboard.waitForSelector('#secrets-table');
    // Tab until the focus reaches the first secret's link, then follow it with Enter.
    for (let press = 0; press < 40; press += 1) {
      await keyboard.keyboard.press('Tab');
      const focused = await keyboard.evaluate(() => document.activeElement?.closest('#secrets-table') !== null && document.activeElement?.tagName === 'A');
      if (focused) break;
    }
    await keyboard.keyboard.press('Enter');
    await keyboard.waitForSelector('#secret-title');
    await keyboard.close();
  });
});
