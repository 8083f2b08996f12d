import { LookupEventsCommand, type Event, type LookupAttributeKey } from '@aws-sdk/client-cloudtrail';
import { useState } from 'preact/hooks';
import type { Session } from '../api.js';
import { ActionButton, ErrorNote, formatDate, Loading, useLoad } from '../ui.js';
import { CallsChart } from './audit-chart.js';

/**
 * The audit trail through CloudTrail LookupEvents, which takes one attribute (principal = Username, operation =
 * EventName, resource = ResourceName, ...) and a time range; the outcome (allowed, refused, failed) is not a
 * LookupEvents attribute, so it filters the loaded events here. Pages of 50 are loaded on demand.
 */
type Query = { attribute: LookupAttributeKey | ''; value: string; start: string; end: string; outcome: 'all' | 'success' | 'failure' };

export type AuditRow = { id: string; time: Date; name: string; principal: string; resource: string; errorCode?: string; sourceIp?: string; body: string };

const ATTRIBUTES: Array<[LookupAttributeKey, string]> = [
  ['Username', 'Principal (user name)'],
  ['EventName', 'Operation'],
  ['ResourceName', 'Resource (ARN)'],
  ['AccessKeyId', 'Access key'],
  ['EventSource', 'Service (event source)'],
  ['ReadOnly', 'Read-only (true/false)'],
];

export function toRow(event: Event): AuditRow {
  const body = JSON.parse(event.CloudTrailEvent ?? '{}') as { errorCode?: string; sourceIPAddress?: string; userIdentity?: { arn?: string; invokedBy?: string } };
  return {
    id: event.EventId ?? '',
    time: event.EventTime ?? new Date(0),
    name: event.EventName ?? '',
    principal: event.Username ?? body.userIdentity?.arn ?? body.userIdentity?.invokedBy ?? '—',
    resource: (event.Resources ?? []).map((resource) => resource.ResourceName).join(', '),
    errorCode: body.errorCode,
    sourceIp: body.sourceIPAddress,
    body: event.CloudTrailEvent ?? '',
  };
}

export function AuditPage({ session }: { session: Session }) {
  const [query, setQuery] = useState<Query>({ attribute: '', value: '', start: '', end: '', outcome: 'all' });
  const [pages, setPages] = useState(1);
  const events = useLoad(async () => {
    const rows: AuditRow[] = [];
    let token: string | undefined;
    let more = false;
    for (let page = 0; page < pages; page += 1) {
      const answer = await session.cloudTrail.send(
        new LookupEventsCommand({
          LookupAttributes: query.attribute && query.value ? [{ AttributeKey: query.attribute, AttributeValue: query.value }] : undefined,
          StartTime: query.start ? new Date(query.start) : undefined,
          EndTime: query.end ? new Date(query.end) : undefined,
          MaxResults: 50,
          NextToken: token,
        }),
      );
      rows.push(...(answer.Events ?? []).map(toRow));
      token = answer.NextToken;
      more = !!token;
      if (!token) break;
    }
    return { rows, more };
  }, [query, pages]);

  const filter = (event: SubmitEvent) => {
    event.preventDefault();
    const form = event.currentTarget as HTMLFormElement;
    const value = (name: string) => (form.elements.namedItem(name) as HTMLInputElement).value.trim();
    setQuery({ attribute: value('attribute') as Query['attribute'], value: value('value'), start: value('start'), end: value('end'), outcome: value('outcome') as Query['outcome'] });
    setPages(1);
  };

  const rows = (events.data?.rows ?? []).filter((row) => query.outcome === 'all' || (query.outcome === 'failure') === !!row.errorCode);
  return (
    <>
      <h1>Audit</h1>
      <ChainState session={session} />
      <form class="filters audit-filters" onSubmit={filter} role="search">
        <select name="attribute" aria-label="Filter by">
          <option value="">Any event</option>
          {ATTRIBUTES.map(([key, label]) => (
            <option value={key}>{label}</option>
          ))}
        </select>
        <input name="value" id="audit-value" placeholder="Value" aria-label="Filter value" />
        <label class="inline">
          From <input name="start" type="datetime-local" aria-label="From time" />
        </label>
        <label class="inline">
          To <input name="end" type="datetime-local" aria-label="To time" />
        </label>
        <select name="outcome" aria-label="Outcome">
          <option value="all">All outcomes</option>
          <option value="success">Succeeded</option>
          <option value="failure">Refused or failed</option>
        </select>
        <button type="submit" id="audit-filter">
          Filter
        </button>
      </form>
      <ErrorNote error={events.error} />
      {events.loading && !events.data ? <Loading what="events" /> : null}
      {events.data ? (
        <div id="audit-list">
          <CallsChart rows={rows} />
          <AuditTable rows={rows} />
          <button type="button" class="secondary" disabled={!events.data.more || events.loading} onClick={() => setPages(pages + 1)}>
            Load older events
          </button>
        </div>
      ) : null}
    </>
  );
}

function ChainState({ session }: { session: Session }) {
  const [state, setState] = useState<Awaited<ReturnType<Session['verifyAuditChain']>>>();
  return (
    <article class="chain-state" id="chain-state">
      {state === undefined ? (
        <span>Hash chain: not checked yet. </span>
      ) : state.Intact ? (
        <span class="ok">
          Hash chain intact: {state.EventsVerified} events verified, head #{state.HeadSequence ?? 0}
          {state.HeadEventTime ? ` (${formatDate(state.HeadEventTime * 1000)})` : ''}.{' '}
        </span>
      ) : (
        <span class="failed">
          Hash chain BROKEN at event #{state.BrokenSequence}: {state.Reason} ({state.EventsVerified} events verified before it).{' '}
        </span>
      )}
      <ActionButton id="verify-chain" class="secondary outline" label="Verify chain" run={async () => setState(await session.verifyAuditChain())} />
    </article>
  );
}

export function AuditTable({ rows }: { rows: AuditRow[] }) {
  if (rows.length === 0) return <p>No events match.</p>;
  return (
    <div class="overflow-auto">
      <table class="striped audit-table">
        <thead>
          <tr>
            <th scope="col">Time</th>
            <th scope="col">Operation</th>
            <th scope="col">Principal</th>
            <th scope="col">Resource</th>
            <th scope="col">Outcome</th>
            <th scope="col">Event</th>
          </tr>
        </thead>
        <tbody>
          {rows.map((row) => (
            <tr key={row.id}>
              <td>{formatDate(row.time)}</td>
              <td class="event-name">{row.name}</td>
              <td>{row.principal}</td>
              <td class="resource">{row.resource}</td>
              <td class={row.errorCode ? 'failed' : 'ok'}>{row.errorCode ?? 'ok'}</td>
              <td>
                <details>
                  <summary>JSON</summary>
                  <pre>{JSON.stringify(JSON.parse(row.body || '{}'), null, 2)}</pre>
                </details>
              </td>
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}
