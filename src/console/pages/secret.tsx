import { LookupEventsCommand } from '@aws-sdk/client-cloudtrail';
import {
  DeleteSecretCommand,
  DescribeSecretCommand,
  GetResourcePolicyCommand,
  GetSecretValueCommand,
  ListSecretVersionIdsCommand,
  PutSecretValueCommand,
  RestoreSecretCommand,
  RotateSecretCommand,
  type DescribeSecretResponse,
} from '@aws-sdk/client-secrets-manager';
import { useEffect, useState } from 'preact/hooks';
import type { Session } from '../api.js';
import { ActionButton, ErrorNote, formatDate, Loading, PolicyView, Section, useLoad } from '../ui.js';
import { AuditTable, toRow } from './audit.js';
import { ValueEditor } from './json-editor.js';
import { RotationSection } from './secret-rotation.js';

/** How long a revealed value stays on screen. */
export const REVEAL_MS = 30_000;

export function SecretPage({ session, secretId }: { session: Session; secretId: string }) {
  const secret = useLoad(() => session.secrets.send(new DescribeSecretCommand({ SecretId: secretId })), [secretId]);
  if (secret.error) return <ErrorNote error={secret.error} />;
  if (!secret.data) return <Loading what="the secret" />;
  const described = secret.data;
  return (
    <>
      <h1 id="secret-title">{described.Name}</h1>
      <Overview secret={described} />
      <ValueSection session={session} secretId={secretId} onChanged={secret.reload} deleted={!!described.DeletedDate} />
      <Versions session={session} secretId={secretId} secret={described} />
      <RotationSection session={session} secret={described} onChanged={secret.reload} />
      <Replication secret={described} />
      <ResourcePolicy session={session} secretId={secretId} />
      <Activity session={session} secretArn={described.ARN!} />
      <Deletion session={session} secret={described} onChanged={secret.reload} />
    </>
  );
}

function Overview({ secret }: { secret: DescribeSecretResponse }) {
  return (
    <dl class="facts">
      <dt>ARN</dt>
      <dd>
        <code>{secret.ARN}</code>
      </dd>
      <dt>Description</dt>
      <dd>{secret.Description || '—'}</dd>
      <dt>KMS key</dt>
      <dd>{secret.KmsKeyId ?? 'aws/secretsmanager'}</dd>
      <dt>Created</dt>
      <dd>{formatDate(secret.CreatedDate)}</dd>
      <dt>Last changed</dt>
      <dd>{formatDate(secret.LastChangedDate)}</dd>
      <dt>Last accessed</dt>
      <dd>{formatDate(secret.LastAccessedDate)}</dd>
      <dt>Tags</dt>
      <dd>{secret.Tags?.length ? secret.Tags.map((tag) => <kbd class="tag">{`${tag.Key}=${tag.Value ?? ''}`}</kbd>) : '—'}</dd>
      {secret.DeletedDate ? (
        <>
          <dt>Deleted</dt>
          <dd>
            <mark id="deletion-state">Scheduled for deletion (deleted {formatDate(secret.DeletedDate)})</mark>
          </dd>
        </>
      ) : null}
    </dl>
  );
}

/**
 * The value is fetched only on click (GetSecretValue: authorized and audited like any read) and dropped from
 * the page after REVEAL_MS. A refusal shows the error, never anything of the value.
 */
function ValueSection({ session, secretId, onChanged, deleted }: { session: Session; secretId: string; onChanged(): void; deleted: boolean }) {
  const [revealed, setRevealed] = useState<string>();
  const [error, setError] = useState<unknown>();
  const [editing, setEditing] = useState(false);
  const [draft, setDraft] = useState('');
  const [saved, setSaved] = useState<string>();

  useEffect(() => {
    if (revealed === undefined) return;
    const timer = setTimeout(() => setRevealed(undefined), REVEAL_MS);
    return () => clearTimeout(timer);
  }, [revealed]);
  useEffect(() => () => setRevealed(undefined), [secretId]);

  const reveal = async () => {
    setError(undefined);
    try {
      const value = await session.secrets.send(new GetSecretValueCommand({ SecretId: secretId }));
      setRevealed(value.SecretString ?? `(binary, ${value.SecretBinary?.length ?? 0} bytes)`);
    } catch (caught) {
      setError(caught);
    }
  };
  const put = async (event: SubmitEvent) => {
    event.preventDefault();
    setError(undefined);
    try {
      const answer = await session.secrets.send(new PutSecretValueCommand({ SecretId: secretId, SecretString: draft }));
      setSaved(answer.VersionId);
      setEditing(false);
      setRevealed(undefined);
      onChanged();
    } catch (caught) {
      setError(caught);
    }
  };

  return (
    <Section title="Value" id="value">
      {revealed === undefined ? (
        <button type="button" id="reveal" onClick={reveal} disabled={deleted}>
          Reveal value
        </button>
      ) : (
        <>
          <pre id="secret-value" class="secret-value">
            {revealed}
          </pre>
          <button type="button" class="secondary" id="hide" onClick={() => setRevealed(undefined)}>
            Hide
          </button>{' '}
          <small>Hidden again after {REVEAL_MS / 1000} seconds.</small>
        </>
      )}{' '}
      {!editing ? (
        <button
          type="button"
          class="secondary"
          id="edit-value"
          disabled={deleted}
          onClick={() => {
            setDraft(revealed ?? '{}');
            setEditing(true);
          }}
        >
          Put a new value
        </button>
      ) : null}
      {saved ? (
        <p role="status" id="put-status">
          Stored as version <code>{saved}</code> (AWSCURRENT).
        </p>
      ) : null}
      <ErrorNote error={error} />
      {editing ? (
        <form onSubmit={put} class="put-value">
          <ValueEditor initial={revealed} onChange={setDraft} />
          <button type="submit" id="save-value">
            Save new version
          </button>{' '}
          <button type="button" class="secondary" onClick={() => setEditing(false)}>
            Cancel
          </button>
        </form>
      ) : null}
    </Section>
  );
}

function Versions({ session, secretId, secret }: { session: Session; secretId: string; secret: DescribeSecretResponse }) {
  const versions = useLoad(() => session.secrets.send(new ListSecretVersionIdsCommand({ SecretId: secretId, IncludeDeprecated: true })), [secretId, secret.LastChangedDate?.getTime(), secret.VersionIdsToStages]);
  const list = [...(versions.data?.Versions ?? [])].sort((a, b) => (b.CreatedDate?.getTime() ?? 0) - (a.CreatedDate?.getTime() ?? 0));
  return (
    <Section title="Versions" id="versions">
      <ErrorNote error={versions.error} />
      <div class="overflow-auto">
        <table class="striped" id="versions-table">
          <thead>
            <tr>
              <th scope="col">Version</th>
              <th scope="col">Labels</th>
              <th scope="col">Created</th>
              <th scope="col">Last accessed</th>
            </tr>
          </thead>
          <tbody>
            {list.map((version) => (
              <tr key={version.VersionId}>
                <td>
                  <code>{version.VersionId}</code>
                </td>
                <td>{(version.VersionStages ?? []).map((stage) => <kbd class="label">{stage}</kbd>)}</td>
                <td>{formatDate(version.CreatedDate)}</td>
                <td>{formatDate(version.LastAccessedDate)}</td>
              </tr>
            ))}
          </tbody>
        </table>
      </div>
    </Section>
  );
}

function Replication({ secret }: { secret: DescribeSecretResponse }) {
  const replicas = secret.ReplicationStatus ?? [];
  return (
    <Section title="Replication" id="replication">
      <p>Primary Region: {secret.PrimaryRegion ?? 'this Region'}</p>
      {replicas.length === 0 ? (
        <p>Not replicated.</p>
      ) : (
        <table>
          <thead>
            <tr>
              <th scope="col">Region</th>
              <th scope="col">Status</th>
              <th scope="col">KMS key</th>
              <th scope="col">Message</th>
            </tr>
          </thead>
          <tbody>
            {replicas.map((replica) => (
              <tr>
                <td>{replica.Region}</td>
                <td>{replica.Status}</td>
                <td>{replica.KmsKeyId ?? '—'}</td>
                <td>{replica.StatusMessage ?? ''}</td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </Section>
  );
}

function ResourcePolicy({ session, secretId }: { session: Session; secretId: string }) {
  const policy = useLoad(() => session.secrets.send(new GetResourcePolicyCommand({ SecretId: secretId })), [secretId]);
  return (
    <Section title="Resource policy" id="resource-policy">
      <ErrorNote error={policy.error} />
      {policy.data ? <PolicyView policy={policy.data.ResourcePolicy} /> : null}
    </Section>
  );
}

function Deletion({ session, secret, onChanged }: { session: Session; secret: DescribeSecretResponse; onChanged(): void }) {
  const [days, setDays] = useState(30);
  if (secret.DeletedDate) {
    return (
      <Section title="Deletion" id="deletion">
        <ActionButton
          id="restore-secret"
          label="Restore secret"
          run={async () => {
            await session.secrets.send(new RestoreSecretCommand({ SecretId: secret.ARN }));
            onChanged();
          }}
        />
      </Section>
    );
  }
  return (
    <Section title="Deletion" id="deletion">
      <label>
        Recovery window (days, 7–30)
        <input type="number" min={7} max={30} value={days} id="recovery-days" onInput={(event) => setDays(Number((event.currentTarget as HTMLInputElement).value))} />
      </label>
      <ActionButton
        id="delete-secret"
        class="contrast"
        label="Schedule deletion"
        run={async () => {
          await session.secrets.send(new DeleteSecretCommand({ SecretId: secret.ARN, RecoveryWindowInDays: days }));
          onChanged();
        }}
      />
    </Section>
  );
}

/** Who did what to this secret lately: the newest audit events naming it (LookupEvents by ResourceName). */
function Activity({ session, secretArn }: { session: Session; secretArn: string }) {
  const events = useLoad(
    () => session.cloudTrail.send(new LookupEventsCommand({ LookupAttributes: [{ AttributeKey: 'ResourceName', AttributeValue: secretArn }], MaxResults: 20 })),
    [secretArn],
  );
  return (
    <Section title="Recent activity" id="activity">
      <ErrorNote error={events.error} />
      {events.data ? <AuditTable rows={(events.data.Events ?? []).map(toRow)} /> : null}
      <button type="button" class="secondary outline" id="refresh-activity" onClick={events.reload}>
        Refresh
      </button>
    </Section>
  );
}
