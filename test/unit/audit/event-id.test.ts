import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { buildEvent, timeOrderedEventId } from '../../../src/audit/index.js';

const UUID_V7 = /^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;
const millisOf = (id: string) => parseInt(id.slice(0, 8) + id.slice(9, 13), 16);

describe('audit event ids', () => {
  it('are RFC 9562 version 7 UUIDs carrying the event time in their first 48 bits', () => {
    const time = new Date('2026-11-29T00:40:00.123Z');
    const id = timeOrderedEventId(time);
    assert.match(id, UUID_V7);
    assert.equal(millisOf(id), time.getTime());
  });

  it('sort by time as text, so the unique index on event_id grows at its end', () => {
    const ids = [0, 1, 2, 1000, 86_400_000].map((offset) => timeOrderedEventId(new Date(1_795_000_000_000 + offset)));
    assert.deepEqual([...ids].sort(), ids);
  });

  it('stay unique within one millisecond', () => {
    const time = new Date();
    const ids = new Set(Array.from({ length: 10_000 }, () => timeOrderedEventId(time)));
    assert.equal(ids.size, 10_000);
  });

  it('carry their own millisecond when calls of different milliseconds alternate (the texts of the last one are reused)', () => {
    const times = [0, 0, 1, 0, 1_000, 1_000, 7].map((offset) => new Date(1_795_000_000_000 + offset));
    for (const time of times) {
      const event = buildEvent({ requestId: 'r', time, operation: 'GetSecretValue', service: 'secretsmanager' });
      assert.equal(event.eventTime, time.toISOString());
      assert.equal(millisOf(event.eventID), time.getTime());
    }
  });

  it('are what buildEvent gives an event by default', () => {
    const time = new Date('2026-11-29T01:00:00Z');
    const event = buildEvent({ requestId: 'r', time, operation: 'GetSecretValue', service: 'secretsmanager' });
    assert.match(event.eventID, UUID_V7);
    assert.equal(millisOf(event.eventID), time.getTime());
  });
});
