import assert from 'node:assert/strict';
import { createHash, randomUUID } from 'node:crypto';
import { beforeEach, it } from 'node:test';
import fc from 'fast-check';
import type { AuditEventDraft, AuditRepository } from '../../../src/store/index.js';
import { describeRepository, type OpenRepositories } from '../repository-suite.js';

/**
 * The conformance suite of AuditRepository, which every backend passes: one unforked hash chain under
 * concurrent appends, a probe that writes nothing, lookups newest first.
 */
export function runAuditRepositorySuite(backend: string, open: OpenRepositories<AuditRepository>): void {
  describeRepository<AuditRepository>('AuditRepository', backend, open, (opened) => {
    let store: AuditRepository;
    beforeEach(() => {
      store = opened();
    });

    /** The hash the store must have sealed an event with: SHA-256(prevHash ‖ body). */
    const sealed = (prevHash: string, body: string) => createHash('sha256').update(prevHash + body).digest('hex');
    const draft = (overrides: Partial<AuditEventDraft> = {}): AuditEventDraft => {
      const eventId = randomUUID();
      return {
        eventId,
        accountId: '111111111111',
        eventTime: new Date(1_700_000_000_000),
        eventName: 'GetSecretValue',
        eventSource: 'secretsmanager.amazonaws.com',
        readOnly: true,
        accessKeyId: 'AKIA1',
        username: 'root',
        resourceNames: ['arn:aws:secretsmanager:us-east-1:111111111111:secret:a-AbCdEf'],
        body: JSON.stringify({ eventID: eventId }),
        ...overrides,
      };
    };

    it('appends concurrently into one unforked chain', async () => {
      const appended = await Promise.all(Array.from({ length: 20 }, () => draft()).map((event) => store.appendAuditEvent(event)));
      const listed = await store.listAuditEvents(0, 100);
      assert.deepEqual(listed.map((event) => event.sequence), Array.from({ length: 20 }, (_, index) => index + 1));
      for (let index = 1; index < listed.length; index++) assert.equal(listed[index]!.prevHash, listed[index - 1]!.hash);
      assert.equal(listed[0]!.prevHash, '0'.repeat(64));
      for (const event of listed) assert.equal(event.hash, sealed(event.prevHash, event.body));
      for (const event of appended) assert.deepEqual(listed[event.sequence - 1], event);
      assert.deepEqual(new Set(appended.map((event) => event.sequence)).size, 20);
      assert.deepEqual((await store.listAuditEvents(18, 100)).map((event) => event.sequence), [19, 20]);
    });

    it('the probe writes nothing', async () => {
      const before = (await store.listAuditEvents(0, 1000)).length;
      await store.probeAuditAppend();
      assert.equal((await store.listAuditEvents(0, 1000)).length, before);
    });

    it('looks up by attribute, account, time and page, newest first', async () => {
      const decrypt = draft({ eventName: 'Decrypt', eventSource: 'kms.amazonaws.com', accessKeyId: 'AKIA2', username: 'alice', eventTime: new Date(1_800_000_000_000), resourceNames: ['arn:aws:kms:us-east-1:111111111111:key/k'] });
      const stored = await store.appendAuditEvent(decrypt);
      const other = draft({ accountId: '222222222222', eventName: 'Decrypt' });
      await store.appendAuditEvent(other);
      const byName = await store.lookupAuditEvents({ accountId: '111111111111', attribute: { key: 'EventName', value: 'Decrypt' }, limit: 10 });
      assert.deepEqual(byName.map((event) => event.eventId), [decrypt.eventId]);
      assert.deepEqual(byName[0], stored);
      for (const [key, value] of [['EventId', decrypt.eventId], ['EventSource', 'kms.amazonaws.com'], ['AccessKeyId', 'AKIA2'], ['Username', 'alice'], ['ResourceName', 'arn:aws:kms:us-east-1:111111111111:key/k'], ['ReadOnly', 'true']] as const) {
        const found = await store.lookupAuditEvents({ accountId: '111111111111', attribute: { key, value }, limit: 1 });
        assert.equal(found[0]?.eventId, decrypt.eventId, key);
      }
      assert.equal((await store.lookupAuditEvents({ accountId: '111111111111', attribute: { key: 'ReadOnly', value: 'false' }, limit: 10 })).length, 0);
      assert.equal((await store.lookupAuditEvents({ accountId: '111111111111', startTime: new Date(1_750_000_000_000), limit: 10 })).length, 1);
      assert.equal((await store.lookupAuditEvents({ accountId: '111111111111', endTime: new Date(1_750_000_000_000), limit: 100 })).length, 20);
      const page = await store.lookupAuditEvents({ accountId: '111111111111', limit: 3 });
      assert.deepEqual(page.map((event) => event.sequence), [21, 20, 19]);
      const next = await store.lookupAuditEvents({ accountId: '111111111111', beforeSequence: 19, limit: 2 });
      assert.deepEqual(next.map((event) => event.sequence), [18, 17]);
      assert.equal((await store.lookupAuditEvents({ accountId: undefined, attribute: { key: 'EventName', value: 'Decrypt' }, limit: 10 })).length, 2);
    });

    it('finds the newest successful event of some operations that names a resource', async () => {
      const key = `arn:aws:kms:us-east-1:111111111111:key/${randomUUID()}`;
      const other = `arn:aws:kms:us-east-1:111111111111:key/${randomUUID()}`;
      const kmsEvent = (eventName: string, resourceNames: string[], failed = false) => {
        const eventId = randomUUID();
        return draft({
          eventId,
          eventName,
          eventSource: 'kms.amazonaws.com',
          resourceNames,
          body: JSON.stringify({ eventID: eventId, eventName, ...(failed ? { errorCode: 'DisabledException' } : {}), requestID: randomUUID() }),
        });
      };
      const query = { eventSource: 'kms.amazonaws.com', eventNames: ['Encrypt', 'Decrypt', 'ReEncrypt'], resourceName: key };
      assert.equal(await store.lastSuccessfulAuditEvent(query), undefined);
      const encrypt = await store.appendAuditEvent(kmsEvent('Encrypt', [key]));
      await store.appendAuditEvent(kmsEvent('Encrypt', [other]));
      await store.appendAuditEvent(kmsEvent('DisableKey', [key]));
      await store.appendAuditEvent(kmsEvent('Decrypt', [key], true));
      await store.appendAuditEvent(draft({ eventName: 'Decrypt', resourceNames: [key] }));
      assert.deepEqual(await store.lastSuccessfulAuditEvent(query), encrypt);
      const reEncrypt = await store.appendAuditEvent(kmsEvent('ReEncrypt', [other, key]));
      await store.appendAuditEvent(kmsEvent('Encrypt', [other]));
      assert.deepEqual(await store.lastSuccessfulAuditEvent(query), reEncrypt);
      assert.deepEqual(await store.lastSuccessfulAuditEvent({ ...query, eventNames: ['Encrypt'] }), encrypt);
      assert.equal(await store.lastSuccessfulAuditEvent({ ...query, eventNames: ['Sign'] }), undefined);
    });

    it('prunes the oldest events through a sequence, never the newest, and the chain goes on from its end', async () => {
      // Other tests of the suite share the store: count from whatever it already holds.
      const held = (await store.listAuditEvents(0, 100_000)).length;
      const appended = [];
      for (let index = 0; index < 5; index++) appended.push(await store.appendAuditEvent(draft()));
      const base = appended[0]!.sequence - 1;
      assert.equal(await store.pruneAuditEvents(base + 3), held + 3);
      assert.deepEqual((await store.listAuditEvents(0, 100)).map((event) => event.sequence), [base + 4, base + 5]);
      assert.equal(await store.pruneAuditEvents(base + 3), 0, 'a second prune through the same sequence deletes nothing');
      // Through past the end: the newest event stays, so the next append still seals against it.
      assert.equal(await store.pruneAuditEvents(base + 100), 1);
      const [head] = await store.listAuditEvents(0, 100);
      assert.equal(head!.sequence, base + 5);
      const next = await store.appendAuditEvent(draft());
      assert.equal(next.sequence, base + 6);
      assert.equal(next.prevHash, head!.hash);
      assert.deepEqual((await store.lookupAuditEvents({ accountId: '111111111111', limit: 10 })).map((event) => event.sequence), [base + 6, base + 5]);
    });

    it('gives back the identical canonical body and its hash, whatever the body holds (the store compresses it)', async () => {
      const eventId = randomUUID();
      const bodies = [
        JSON.stringify({ eventID: eventId, eventName: 'GetSecretValue', requestParameters: { SecretId: 'sé-クレ-\u0000-"quoted"' }, userAgent: 'x'.repeat(5000) }),
        '{}',
        JSON.stringify({ eventID: randomUUID(), random: randomUUID().repeat(40) }),
      ];
      const appended = await store.appendAuditEvents(bodies.map((body) => draft({ body })));
      const listed = await store.listAuditEvents(appended[0]!.sequence - 1, 10);
      assert.deepEqual(listed.map((event) => event.body), bodies);
      for (const event of listed) assert.equal(event.hash, sealed(event.prevHash, event.body));
      assert.deepEqual(listed, appended);
    });

    it('gives back varied events byte for byte when they share templates (audit-codec.ts, codec 2), in a batch and across batches', async () => {
      // Shapes of event that repeat with new ids, times and tokens (so their templates are kept and used), and
      // one-off ones: texts of any characters, resources named in the body or not, times that are not the event's.
      const shapes = fc.sample(
        fc.record({
          secret: fc.string({ unit: 'binary', maxLength: 12 }),
          resources: fc.array(fc.string({ unit: 'binary', maxLength: 20 }), { maxLength: 3 }),
          extra: fc.jsonValue({ maxDepth: 2 }),
        }),
        { seed: 21, numRuns: 8 },
      );
      const event = (shape: (typeof shapes)[number], index: number) => {
        const eventId = randomUUID();
        const eventTime = new Date(1_800_000_000_000 + index * 1001);
        const arn = `arn:aws:secretsmanager:us-east-1:111111111111:secret:${shape.secret}-AbCdEf`;
        const resourceNames = [arn, ...shape.resources];
        const body = JSON.stringify({
          eventID: eventId, eventTime: eventTime.toISOString(), requestID: randomUUID(), requestParameters: { SecretId: shape.secret, ClientRequestToken: randomUUID() },
          resources: resourceNames.map((ARN) => ({ ARN })), responseElements: { CreatedDate: new Date(1_700_000_000_000 + index).toISOString(), extra: shape.extra },
        });
        return draft({ eventId, eventTime, resourceNames, body });
      };
      const drafts = Array.from({ length: 40 }, (_, index) => event(shapes[index % shapes.length]!, index));
      const appended = [...(await store.appendAuditEvents(drafts.slice(0, 30)))];
      for (const one of drafts.slice(30)) appended.push(await store.appendAuditEvent(one));
      const listed = await store.listAuditEvents(appended[0]!.sequence - 1, 100);
      assert.deepEqual(listed.map((record) => record.body), drafts.map((one) => one.body));
      for (const record of listed) assert.equal(record.hash, sealed(record.prevHash, record.body));
      assert.deepEqual(listed, appended);
      const found = await store.lookupAuditEvents({ accountId: '111111111111', attribute: { key: 'EventId', value: drafts[35]!.eventId }, limit: 1 });
      assert.equal(found[0]?.body, drafts[35]!.body);
    });
  });
}
