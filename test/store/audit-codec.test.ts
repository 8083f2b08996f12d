import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import {
  auditEventIdKey,
  AuditTemplateMatcher,
  decodeAuditBody,
  decodeAuditEventId,
  encodeAuditEventId,
  encodeTemplatedBody,
  joinAuditBody,
  splitAuditBody,
  templateOfStoredBody,
  type AuditBodyContext,
} from '../../src/store/audit-codec.js';

/**
 * Issue 21: codec 2 of audit bodies (store/audit-codec.ts), a template and its holes. The hash chain is over the
 * canonical text, so whatever the text, splitting and joining must give it back byte for byte.
 */

const uuid = fc.uuid().map((value) => value.toLowerCase());
/** Times of every kind the holes meet: near now, far away (years 0000 to 9999, past 48-bit ms), with odd milliseconds. */
const time = fc.oneof(
  fc.integer({ min: 1_600_000_000_000, max: 2_000_000_000_000 }),
  fc.integer({ min: -62_167_219_200_000, max: 253_402_300_799_999 }),
);
/** Any text, control and lone surrogate characters included (JSON.stringify escapes the control characters). */
const anyText = fc.string({ unit: 'binary', maxLength: 40 });
const resourceName = fc.oneof(anyText, uuid, fc.constantFrom('arn:aws:secretsmanager:us-east-1:111111111111:secret:app/db-Ab12Cd', 'app/db', ''));

/** An event-like value: the row's own id, time and resources, other UUIDs and times, and text around them. */
const eventLike = fc
  .record({
    eventId: uuid,
    eventTime: time,
    resourceNames: fc.array(resourceName, { maxLength: 20 }),
    otherIds: fc.array(uuid, { maxLength: 70 }),
    otherTimes: fc.array(time, { maxLength: 5 }),
    texts: fc.array(anyText, { maxLength: 6 }),
    extra: fc.jsonValue({ maxDepth: 2 }),
    shuffle: fc.integer(),
  })
  .map(({ eventId, eventTime, resourceNames, otherIds, otherTimes, texts, extra, shuffle }) => {
    const values: unknown[] = [
      eventId, new Date(eventTime).toISOString(), ...resourceNames, ...otherIds, ...otherTimes.map((ms) => new Date(ms).toISOString()), ...texts, extra,
      // A time that is not one Date prints back (no such day), and an uppercase UUID: both stay in the template.
      '2026-02-30T00:00:00.000Z', eventId.toUpperCase(),
    ];
    const rotated = values.map((_, index) => values[(index + Math.abs(shuffle)) % values.length]);
    const body = JSON.stringify({ eventID: eventId, values: rotated, resources: resourceNames.map((ARN) => ({ ARN })) });
    return { body, context: { eventId, eventTime, resourceNames } satisfies AuditBodyContext };
  });

/** The stored bytes of a body as codec 2 (template id 300: two bytes of LEB128), and the text decoding gives. */
function roundTrip(body: string, context: AuditBodyContext): { stored: Buffer | undefined; text: string } {
  const split = splitAuditBody(body, context);
  if (!split) return { stored: undefined, text: body };
  const stored = encodeTemplatedBody(300, split.holes);
  const text = decodeAuditBody(stored, { template: (id) => (id === 300 ? split.template : undefined), context: () => context });
  return { stored, text };
}

describe('audit bodies as a template and holes (codec 2)', () => {
  it('gives back every event-like text byte for byte', () => {
    fc.assert(
      fc.property(eventLike, ({ body, context }) => {
        assert.equal(roundTrip(body, context).text, body);
        // The event's own id and time become holes of no bytes (the row's columns hold them).
        const template = splitAuditBody(body, context)!.template;
        assert.ok(!template.includes(`"${new Date(context.eventTime).toISOString()}"`) && !template.includes(`"eventID":"${context.eventId}"`), template);
      }),
      { numRuns: 2000 },
    );
  });

  it('gives back any text at all, JSON or not, or leaves it without a template', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'binary', maxLength: 200 }), uuid, time, fc.array(anyText, { maxLength: 3 }), (text, eventId, eventTime, resourceNames) => {
        const body = `${text}"${eventId}"${JSON.stringify(resourceNames[0] ?? '')}"${new Date(eventTime).toISOString()}"${text}`;
        const context = { eventId, eventTime, resourceNames };
        const { stored, text: decoded } = roundTrip(body, context);
        assert.equal(decoded, body);
        // A raw control character could be mistaken for a hole: such a text keeps no template.
        if (/[\u0000-\u001f]/.test(body)) assert.equal(stored, undefined);
      }),
      { numRuns: 2000 },
    );
  });

  it('matches a body against the kept templates of its key only where filling one gives the body back byte for byte', () => {
    // Pairs of events of one shape (the second with new ids, times and resources) and of unrelated shapes.
    const sameShape = eventLike.chain(({ body, context }) =>
      fc.record({ eventId: uuid, eventTime: time, requestId: uuid }).map((next) => {
        const split = splitAuditBody(body, context);
        const nextContext = { ...context, eventId: next.eventId, eventTime: next.eventTime };
        const nextBody = split
          ? joinAuditBody(split.template, encodeTemplatedBody(1, Buffer.alloc(split.holes.length, 0x5a)), 2, nextContext)
          : body;
        return { first: { body, context }, second: { body: nextBody, context: nextContext } };
      }),
    );
    const pair = fc.oneof(sameShape, fc.record({ first: eventLike, second: eventLike }));
    let matched = 0;
    fc.assert(
      fc.property(pair, ({ first, second }) => {
        const split = splitAuditBody(first.body, first.context);
        if (!split) return;
        const matcher = new AuditTemplateMatcher();
        matcher.add('GetSecretValue\nAKIA', split.template, 7);
        assert.equal(matcher.find('Decrypt\nAKIA', second.body, second.context), undefined, 'another key has no templates');
        const found = matcher.find('GetSecretValue\nAKIA', second.body, second.context);
        if (!found) return;
        matched += 1;
        assert.equal(found.templateId, 7);
        const stored = encodeTemplatedBody(found.templateId, found.holes);
        assert.equal(decodeAuditBody(stored, { template: () => split.template, context: () => second.context }), second.body);
      }),
      { numRuns: 1000 },
    );
    assert.ok(matched > 300, `${matched} bodies matched a template of their shape`);
  });

  it('matches the resource names and event time an event has now, whatever it was asked before (its JSON texts are kept between calls)', () => {
    const eventId = '0190d3b2-7a1c-7def-8abc-0123456789ab';
    const eventTime = Date.UTC(2026, 11, 6, 7, 0, 0, 123);
    const [first, second] = ['arn:aws:secretsmanager:us-east-1:111111111111:secret:app/db-Ab12Cd', 'arn:aws:secretsmanager:us-east-1:111111111111:secret:app/db-Zz99Yy'];
    const bodyOf = (arn: string, time = eventTime) => JSON.stringify({ eventID: eventId, eventTime: new Date(time).toISOString(), resources: [{ ARN: arn }] });
    const names = [first];
    const split = splitAuditBody(bodyOf(first), { eventId, eventTime, resourceNames: names })!;
    const matcher = new AuditTemplateMatcher();
    matcher.add('GetSecretValue\nAKIA', split.template, 7);
    const find = (body: string, time = eventTime) => matcher.findStoredBody('GetSecretValue\nAKIA', body, { eventId, eventTime: time, resourceNames: names });
    assert.ok(find(bodyOf(first)));
    // The same array, now naming another resource (a caller may reuse one): the first name no longer fills the hole.
    names[0] = second;
    assert.equal(find(bodyOf(first)), undefined);
    assert.ok(find(bodyOf(second)));
    // The event's own time only: a body with another time, or the time unquoted, is no match.
    assert.equal(find(bodyOf(second, eventTime + 1)), undefined);
    assert.equal(find(bodyOf(second).replace(/"(\d{4}-[^"]*)"/, '$1 ')), undefined);
    const stored = find(bodyOf(second, eventTime + 1), eventTime + 1)!;
    assert.equal(decodeAuditBody(stored, { template: () => split.template, context: () => ({ eventId, eventTime: eventTime + 1, resourceNames: [second] }) }), bodyOf(second, eventTime + 1));
  });

  it('keeps in the row only what differs: a GetSecretValue-like body stores its requestID (16 bytes) after the template id', () => {
    const eventId = '0190d3b2-7a1c-7def-8abc-0123456789ab';
    const requestId = '6f1d2c3b-4a59-4687-a9b8-c7d6e5f4a3b2';
    const arn = 'arn:aws:secretsmanager:us-east-1:111111111111:secret:app/db-Ab12Cd';
    const eventTime = Date.UTC(2026, 11, 6, 7, 0, 0, 123);
    const body = JSON.stringify({
      eventID: eventId, eventName: 'GetSecretValue', eventTime: new Date(eventTime).toISOString(), requestID: requestId,
      requestParameters: { SecretId: 'app/db' }, resources: [{ ARN: arn, accountId: '111111111111' }],
    });
    const context = { eventId, eventTime, resourceNames: [arn] };
    const split = splitAuditBody(body, context)!;
    assert.equal(
      split.template,
      '{"eventID":\u0001,"eventName":"GetSecretValue","eventTime":\u0002,"requestID":\u0003,"requestParameters":{"SecretId":"app/db"},"resources":[{"ARN":\u0010,"accountId":"111111111111"}]}',
    );
    assert.equal(split.holes.toString('hex'), requestId.replaceAll('-', ''));
    const stored = encodeTemplatedBody(5, split.holes);
    assert.equal(stored.length, 1 + 1 + 16);
    assert.deepEqual(templateOfStoredBody(stored), { templateId: 5, holesAt: 2 });
    assert.equal(joinAuditBody(split.template, stored, 2, context), body);
    // Another call of the same shape has the same template.
    const next = { eventId: '0190d3b2-7a1c-7def-8abc-0123456789ff', eventTime: eventTime + 5, resourceNames: [arn] };
    const nextBody = body.replace(eventId, next.eventId).replace(new Date(eventTime).toISOString(), new Date(next.eventTime).toISOString());
    assert.equal(splitAuditBody(nextBody, next)!.template, split.template);
  });

  it('decodes a tampered body (holes cut short or left over, an unknown template, a resource it does not have) to a text that is not the event, without throwing', () => {
    const eventId = '0190d3b2-7a1c-7def-8abc-0123456789ab';
    const context = { eventId, eventTime: 0, resourceNames: ['r'] };
    const body = JSON.stringify({ eventID: eventId, requestID: '6f1d2c3b-4a59-4687-a9b8-c7d6e5f4a3b2', resources: ['r'] });
    const split = splitAuditBody(body, context)!;
    const stored = encodeTemplatedBody(1, split.holes);
    const reader = (template: string | undefined, names = context.resourceNames) => ({ template: () => template, context: () => ({ ...context, resourceNames: names }) });
    assert.equal(decodeAuditBody(stored, reader(split.template)), body);
    for (const [bytes, template, names] of [
      [stored.subarray(0, stored.length - 1), split.template, ['r']],
      [Buffer.concat([stored, Buffer.of(0)]), split.template, ['r']],
      [stored, undefined, ['r']],
      [stored, split.template, []],
      [Buffer.of(2, 0x80), split.template, ['r']],
    ] as const) {
      const decoded = decodeAuditBody(bytes, reader(template, [...names]));
      assert.notEqual(decoded, body);
      assert.match(decoded, /^undecodable stored body/);
    }
  });
});

describe('audit event ids as SQLite stores them (audit migration 5)', () => {
  const v7 = (ms: number, rest: string) => `${ms.toString(16).padStart(12, '0').slice(0, 8)}-${ms.toString(16).padStart(12, '0').slice(8)}-7${rest.slice(15)}`;

  it('stores an id as 16 bytes only when it is a lowercase UUID carrying its event time, and reads every id back as it was', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 2 ** 48 - 1 }), uuid, fc.integer({ min: -5, max: 5 }), (ms, rest, skew) => {
        const eventId = v7(ms, rest);
        const stored = encodeAuditEventId(eventId, ms + skew);
        assert.equal(Buffer.isBuffer(stored), skew === 0);
        assert.equal(decodeAuditEventId(stored), eventId);
        // A lookup finds the bytes at the time the id carries.
        assert.deepEqual(auditEventIdKey(eventId), { time: ms, stored: encodeAuditEventId(eventId, ms) });
      }),
    );
    fc.assert(
      fc.property(fc.oneof(anyText, uuid.map((id) => id.toUpperCase())), time, (eventId, eventTime) => {
        const stored = encodeAuditEventId(eventId, eventTime);
        if (Buffer.isBuffer(stored)) assert.equal(decodeAuditEventId(stored), eventId);
        else assert.equal(stored, eventId);
      }),
    );
  });

  it('keeps an id that is not a lowercase UUID as its text, and a lookup of it has no time', () => {
    for (const eventId of ['imported-event-3', '0190F3A2-0000-7000-8000-000000000000', '0190f3a2_0000-7000-8000-000000000000', '']) {
      assert.equal(encodeAuditEventId(eventId, 0), eventId);
      assert.deepEqual(auditEventIdKey(eventId), { time: undefined, stored: eventId });
    }
  });
});
