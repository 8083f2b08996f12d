import {
  CancelKeyDeletionCommand,
  DescribeKeyCommand,
  DisableKeyRotationCommand,
  EnableKeyCommand,
  EnableKeyRotationCommand,
  GetKeyPolicyCommand,
  GetKeyRotationStatusCommand,
  ListGrantsCommand,
  ScheduleKeyDeletionCommand,
  type KeyMetadata,
} from '@aws-sdk/client-kms';
import { useState } from 'preact/hooks';
import type { Session } from '../api.js';
import { ActionButton, ErrorNote, formatDate, Loading, PolicyView, Section, useLoad } from '../ui.js';
import { KeyState, listAllAliases } from './keys.js';

export function KeyPage({ session, keyId }: { session: Session; keyId: string }) {
  const key = useLoad(() => session.kms.send(new DescribeKeyCommand({ KeyId: keyId })), [keyId]);
  if (key.error) return <ErrorNote error={key.error} />;
  if (!key.data?.KeyMetadata) return <Loading what="the key" />;
  const metadata = key.data.KeyMetadata;
  return (
    <>
      <h1>
        Key <code>{metadata.KeyId}</code>
      </h1>
      <dl class="facts">
        <dt>ARN</dt>
        <dd>
          <code>{metadata.Arn}</code>
        </dd>
        <dt>State</dt>
        <dd id="key-state">
          <KeyState state={metadata.KeyState} />
          {metadata.DeletionDate ? ` — deleted on ${formatDate(metadata.DeletionDate)}` : ''}
        </dd>
        <dt>Description</dt>
        <dd>{metadata.Description || '—'}</dd>
        <dt>Spec / usage</dt>
        <dd>
          {metadata.KeySpec} / {metadata.KeyUsage}
        </dd>
        <dt>Origin</dt>
        <dd>{metadata.Origin}</dd>
        <dt>Manager</dt>
        <dd>{metadata.KeyManager}</dd>
        <dt>Multi-Region</dt>
        <dd>{metadata.MultiRegion ? 'yes' : 'no'}</dd>
        <dt>Created</dt>
        <dd>{formatDate(metadata.CreationDate)}</dd>
      </dl>
      <Rotation session={session} metadata={metadata} />
      <Aliases session={session} keyId={metadata.KeyId!} />
      <KeyPolicy session={session} keyId={metadata.KeyId!} />
      <Grants session={session} keyId={metadata.KeyId!} />
      <Deletion session={session} metadata={metadata} onChanged={key.reload} />
    </>
  );
}

function Rotation({ session, metadata }: { session: Session; metadata: KeyMetadata }) {
  const status = useLoad(() => session.kms.send(new GetKeyRotationStatusCommand({ KeyId: metadata.KeyId })), [metadata.KeyId, metadata.KeyState]);
  const rotatable = metadata.KeySpec === 'SYMMETRIC_DEFAULT' && metadata.KeyManager === 'CUSTOMER' && metadata.Origin === 'AWS_KMS';
  return (
    <Section title="Rotation" id="key-rotation">
      <ErrorNote error={status.error} />
      {status.data ? (
        <p>
          Automatic rotation: <strong>{status.data.KeyRotationEnabled ? `on, every ${status.data.RotationPeriodInDays ?? 365} days` : 'off'}</strong>
          {status.data.NextRotationDate ? `, next ${formatDate(status.data.NextRotationDate)}` : ''}
        </p>
      ) : null}
      {rotatable && status.data ? (
        status.data.KeyRotationEnabled ? (
          <ActionButton label="Turn off rotation" class="secondary" run={async () => (await session.kms.send(new DisableKeyRotationCommand({ KeyId: metadata.KeyId })), status.reload())} />
        ) : (
          <ActionButton label="Turn on rotation" class="secondary" run={async () => (await session.kms.send(new EnableKeyRotationCommand({ KeyId: metadata.KeyId })), status.reload())} />
        )
      ) : null}
    </Section>
  );
}

function Aliases({ session, keyId }: { session: Session; keyId: string }) {
  const aliases = useLoad(() => listAllAliases(session, keyId), [keyId]);
  return (
    <Section title="Aliases" id="aliases">
      <ErrorNote error={aliases.error} />
      {aliases.data ? aliases.data.length ? <ul>{aliases.data.map((alias) => <li><code>{alias.AliasName}</code></li>)}</ul> : <p>None.</p> : null}
    </Section>
  );
}

function KeyPolicy({ session, keyId }: { session: Session; keyId: string }) {
  const policy = useLoad(() => session.kms.send(new GetKeyPolicyCommand({ KeyId: keyId, PolicyName: 'default' })), [keyId]);
  return (
    <Section title="Key policy" id="key-policy">
      <ErrorNote error={policy.error} />
      {policy.data ? <PolicyView policy={policy.data.Policy} /> : null}
    </Section>
  );
}

function Grants({ session, keyId }: { session: Session; keyId: string }) {
  const grants = useLoad(() => session.kms.send(new ListGrantsCommand({ KeyId: keyId, Limit: 100 })), [keyId]);
  const list = grants.data?.Grants ?? [];
  return (
    <Section title="Grants" id="grants">
      <ErrorNote error={grants.error} />
      {grants.data && list.length === 0 ? <p>None.</p> : null}
      {list.length ? (
        <div class="overflow-auto">
          <table class="striped">
            <thead>
              <tr>
                <th scope="col">Grant</th>
                <th scope="col">Grantee</th>
                <th scope="col">Operations</th>
                <th scope="col">Created</th>
              </tr>
            </thead>
            <tbody>
              {list.map((grant) => (
                <tr>
                  <td>
                    <code>{grant.Name || grant.GrantId}</code>
                  </td>
                  <td>
                    <code>{grant.GranteePrincipal}</code>
                  </td>
                  <td>{(grant.Operations ?? []).join(', ')}</td>
                  <td>{formatDate(grant.CreationDate)}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      ) : null}
    </Section>
  );
}

function Deletion({ session, metadata, onChanged }: { session: Session; metadata: KeyMetadata; onChanged(): void }) {
  const [days, setDays] = useState(30);
  if (metadata.KeyManager !== 'CUSTOMER') return null;
  if (metadata.KeyState === 'PendingDeletion' || metadata.KeyState === 'PendingReplicaDeletion') {
    return (
      <Section title="Deletion" id="key-deletion">
        <p>
          Scheduled for deletion on <strong>{formatDate(metadata.DeletionDate)}</strong>. Cancelling leaves the key disabled.
        </p>
        <ActionButton
          id="cancel-key-deletion"
          label="Cancel deletion"
          run={async () => {
            await session.kms.send(new CancelKeyDeletionCommand({ KeyId: metadata.KeyId }));
            onChanged();
          }}
        />
      </Section>
    );
  }
  return (
    <Section title="Deletion" id="key-deletion">
      {metadata.KeyState === 'Disabled' ? (
        <p>
          <ActionButton label="Enable key" class="secondary" run={async () => (await session.kms.send(new EnableKeyCommand({ KeyId: metadata.KeyId })), onChanged())} />
        </p>
      ) : null}
      <label>
        Waiting period (days, 7–30)
        <input type="number" min={7} max={30} value={days} id="key-pending-days" onInput={(event) => setDays(Number((event.currentTarget as HTMLInputElement).value))} />
      </label>
      <ActionButton
        id="schedule-key-deletion"
        class="contrast"
        label="Schedule key deletion"
        run={async () => {
          await session.kms.send(new ScheduleKeyDeletionCommand({ KeyId: metadata.KeyId, PendingWindowInDays: days }));
          onChanged();
        }}
      />
    </Section>
  );
}
