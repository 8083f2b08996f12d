import { LookupEventsCommand } from '@aws-sdk/client-cloudtrail';
import { RotateSecretCommand, type DescribeSecretResponse } from '@aws-sdk/client-secrets-manager';
import { useState } from 'preact/hooks';
import type { Session } from '../api.js';
import { ErrorNote, formatDate, Section, useLoad } from '../ui.js';

const OUTCOME_EVENTS = new Set(['RotationStarted', 'RotationSucceeded', 'RotationFailed', 'RotationAbandoned']);

export type RotationOutcome = { eventName: string; time?: Date; step?: string; errorCode?: string; attempts?: number; versionId?: string };

/**
 * The last rotation's outcome. DescribeSecret tells when a rotation last succeeded and when the next is due,
 * but not that one failed or where: Coffer records that as CloudTrail service events (RotationFailed with
 * Step, Attempts and ErrorCode in additionalEventData, as Secrets Manager logs to CloudTrail), so the console
 * reads the secret's newest rotation event through LookupEvents rather than an endpoint of its own.
 */
async function lastRotationOutcome(session: Session, secretArn: string): Promise<RotationOutcome | undefined> {
  let token: string | undefined;
  for (let page = 0; page < 4; page += 1) {
    const answer = await session.cloudTrail.send(new LookupEventsCommand({ LookupAttributes: [{ AttributeKey: 'ResourceName', AttributeValue: secretArn }], MaxResults: 50, NextToken: token }));
    const found = (answer.Events ?? []).find((event) => OUTCOME_EVENTS.has(event.EventName ?? ''));
    if (found) {
      const body = JSON.parse(found.CloudTrailEvent ?? '{}') as { additionalEventData?: Record<string, unknown> };
      const details = body.additionalEventData ?? {};
      return {
        eventName: found.EventName!,
        time: found.EventTime,
        step: details.Step as string | undefined,
        errorCode: details.ErrorCode as string | undefined,
        attempts: details.Attempts as number | undefined,
        versionId: details.VersionId as string | undefined,
      };
    }
    token = answer.NextToken;
    if (!token) return undefined;
  }
  return undefined;
}

function describeSchedule(secret: DescribeSecretResponse): string {
  const rules = secret.RotationRules;
  if (!rules) return '—';
  const parts = [rules.ScheduleExpression ?? (rules.AutomaticallyAfterDays ? `every ${rules.AutomaticallyAfterDays} days` : undefined), rules.Duration ? `window ${rules.Duration}` : undefined];
  return parts.filter(Boolean).join(', ') || '—';
}

export function RotationSection({ session, secret, onChanged }: { session: Session; secret: DescribeSecretResponse; onChanged(): void }) {
  const outcome = useLoad(() => lastRotationOutcome(session, secret.ARN!), [secret.ARN, secret.LastChangedDate?.getTime(), secret.LastRotatedDate?.getTime()]);
  const [error, setError] = useState<unknown>();
  const [started, setStarted] = useState<string>();
  const [busy, setBusy] = useState(false);

  const rotate = async (event: SubmitEvent) => {
    event.preventDefault();
    const form = event.currentTarget as HTMLFormElement;
    const field = (name: string) => (form.elements.namedItem(name) as HTMLInputElement).value.trim();
    const functionArn = field('functionArn');
    const schedule = field('schedule');
    const days = /^\d+$/.test(schedule) ? Number(schedule) : undefined;
    setBusy(true);
    setError(undefined);
    try {
      const answer = await session.secrets.send(
        new RotateSecretCommand({
          SecretId: secret.ARN,
          RotationLambdaARN: functionArn || undefined,
          RotationRules: schedule ? (days !== undefined ? { AutomaticallyAfterDays: days } : { ScheduleExpression: schedule }) : undefined,
          RotateImmediately: true,
        }),
      );
      setStarted(answer.VersionId);
      onChanged();
    } catch (caught) {
      setError(caught);
    } finally {
      setBusy(false);
    }
  };

  const last = outcome.data;
  return (
    <Section title="Rotation" id="rotation">
      <dl class="facts">
        <dt>Rotation</dt>
        <dd id="rotation-enabled">{secret.RotationEnabled ? 'enabled' : 'not enabled'}</dd>
        <dt>Function</dt>
        <dd>{secret.RotationLambdaARN ? <code>{secret.RotationLambdaARN}</code> : '—'}</dd>
        <dt>Schedule</dt>
        <dd>{describeSchedule(secret)}</dd>
        <dt>Last rotated</dt>
        <dd>{formatDate(secret.LastRotatedDate)}</dd>
        <dt>Next rotation</dt>
        <dd>{formatDate(secret.NextRotationDate)}</dd>
        <dt>Last outcome</dt>
        <dd id="rotation-outcome">
          <OutcomeView outcome={last} loading={outcome.loading} />{' '}
          <button type="button" class="secondary outline small" id="refresh-rotation" onClick={outcome.reload}>
            Refresh
          </button>
        </dd>
      </dl>
      <ErrorNote error={outcome.error} />
      <form onSubmit={rotate} class="rotate">
        <div class="grid">
          <label>
            Rotation function ARN
            <input name="functionArn" id="rotation-function" defaultValue={secret.RotationLambdaARN ?? ''} placeholder="arn:aws:lambda:…:function:name" />
          </label>
          <label>
            Schedule <small>(days, rate() or cron(); empty keeps it)</small>
            <input name="schedule" id="rotation-schedule" placeholder="30 or rate(10 days)" />
          </label>
        </div>
        <button type="submit" id="rotate-now" aria-busy={busy} disabled={busy || !!secret.DeletedDate}>
          Rotate now
        </button>
        {started ? (
          <small role="status" id="rotation-started">
            {' '}
            Rotation started: version <code>{started}</code>
          </small>
        ) : null}
        <ErrorNote error={error} />
      </form>
    </Section>
  );
}

function OutcomeView({ outcome, loading }: { outcome: RotationOutcome | undefined; loading: boolean }) {
  if (!outcome) return <span>{loading ? 'checking…' : 'no rotation recorded'}</span>;
  const when = formatDate(outcome.time);
  switch (outcome.eventName) {
    case 'RotationSucceeded':
      return <span class="ok">succeeded {when}</span>;
    case 'RotationStarted':
      return <span>started {when}, in progress</span>;
    case 'RotationFailed':
    case 'RotationAbandoned':
      return (
        <span class="failed">
          {outcome.eventName === 'RotationAbandoned' ? 'abandoned' : 'failed'} at step <strong>{outcome.step ?? '?'}</strong>
          {outcome.errorCode ? ` (${outcome.errorCode})` : ''}, attempt {outcome.attempts ?? '?'}, {when}
        </span>
      );
    default:
      return <span>{outcome.eventName}</span>;
  }
}
