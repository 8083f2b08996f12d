import {
  CreateAccessKeyCommand,
  CreateUserCommand,
  ListAccessKeysCommand,
  ListAttachedUserPoliciesCommand,
  ListPoliciesCommand,
  ListRolesCommand,
  ListUserPoliciesCommand,
  ListUsersCommand,
  UpdateAccessKeyCommand,
  type AccessKey,
} from '@aws-sdk/client-iam';
import { useState } from 'preact/hooks';
import type { Session } from '../api.js';
import { ActionButton, ErrorNote, formatDate, Loading, Section, useLoad } from '../ui.js';

/** IAM users (with their access keys and policies), roles and customer managed policies. */
export function IdentityPage({ session }: { session: Session }) {
  const [selected, setSelected] = useState<string>();
  const users = useLoad(() => session.iam.send(new ListUsersCommand({ MaxItems: 100 })), []);
  const roles = useLoad(() => session.iam.send(new ListRolesCommand({ MaxItems: 100 })), []);
  const policies = useLoad(() => session.iam.send(new ListPoliciesCommand({ Scope: 'Local', MaxItems: 100 })), []);

  const createUser = async (event: SubmitEvent) => {
    event.preventDefault();
    const form = event.currentTarget as HTMLFormElement;
    const name = (form.elements.namedItem('userName') as HTMLInputElement).value.trim();
    await session.iam.send(new CreateUserCommand({ UserName: name }));
    form.reset();
    users.reload();
  };

  return (
    <>
      <h1>Identity</h1>
      <Section title="Users" id="users">
        <ErrorNote error={users.error} />
        {users.loading && !users.data ? <Loading what="users" /> : null}
        <div class="overflow-auto">
          <table class="striped" id="users-table">
            <thead>
              <tr>
                <th scope="col">User</th>
                <th scope="col">ARN</th>
                <th scope="col">Created</th>
                <th scope="col" />
              </tr>
            </thead>
            <tbody>
              {(users.data?.Users ?? []).map((user) => (
                <tr key={user.UserName}>
                  <td>{user.UserName}</td>
                  <td>
                    <code>{user.Arn}</code>
                  </td>
                  <td>{formatDate(user.CreateDate)}</td>
                  <td>
                    <button type="button" class="secondary outline" onClick={() => setSelected(user.UserName)} aria-pressed={selected === user.UserName}>
                      Details
                    </button>
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
        <CreateUserForm onSubmit={createUser} />
      </Section>
      {selected ? <UserDetails session={session} userName={selected} key={selected} /> : null}
      <Section title="Roles" id="roles">
        <ErrorNote error={roles.error} />
        <ul>
          {(roles.data?.Roles ?? []).map((role) => (
            <li key={role.RoleName}>
              <strong>{role.RoleName}</strong> <code>{role.Arn}</code>
            </li>
          ))}
          {roles.data && !roles.data.Roles?.length ? <li>None.</li> : null}
        </ul>
      </Section>
      <Section title="Customer managed policies" id="policies">
        <ErrorNote error={policies.error} />
        <ul>
          {(policies.data?.Policies ?? []).map((policy) => (
            <li key={policy.Arn}>
              <strong>{policy.PolicyName}</strong> <code>{policy.Arn}</code> ({policy.AttachmentCount ?? 0} attachments)
            </li>
          ))}
          {policies.data && !policies.data.Policies?.length ? <li>None.</li> : null}
        </ul>
      </Section>
    </>
  );
}

function CreateUserForm({ onSubmit }: { onSubmit(event: SubmitEvent): Promise<void> }) {
  const [error, setError] = useState<unknown>();
  return (
    <form
      class="inline-form"
      onSubmit={async (event) => {
        setError(undefined);
        try {
          await onSubmit(event);
        } catch (caught) {
          setError(caught);
        }
      }}
    >
      <input name="userName" aria-label="New user name" placeholder="new user name" required />
      <button type="submit">Create user</button>
      <ErrorNote error={error} />
    </form>
  );
}

/**
 * A user's access keys and policies. A key created here shows its secret once, in this component's state only;
 * leaving the page forgets it, as IAM's console does.
 */
function UserDetails({ session, userName }: { session: Session; userName: string }) {
  const keys = useLoad(() => session.iam.send(new ListAccessKeysCommand({ UserName: userName })), [userName]);
  const attached = useLoad(() => session.iam.send(new ListAttachedUserPoliciesCommand({ UserName: userName })), [userName]);
  const inline = useLoad(() => session.iam.send(new ListUserPoliciesCommand({ UserName: userName })), [userName]);
  const [created, setCreated] = useState<AccessKey>();

  return (
    <Section title={`User ${userName}`} id="user-details">
      <h4>Access keys</h4>
      <ErrorNote error={keys.error} />
      <ul>
        {(keys.data?.AccessKeyMetadata ?? []).map((key) => (
          <li key={key.AccessKeyId}>
            <code>{key.AccessKeyId}</code> {key.Status}, created {formatDate(key.CreateDate)}{' '}
            {key.Status === 'Active' ? (
              <ActionButton class="secondary outline" label="Deactivate" run={async () => (await session.iam.send(new UpdateAccessKeyCommand({ UserName: userName, AccessKeyId: key.AccessKeyId, Status: 'Inactive' })), keys.reload())} />
            ) : null}
          </li>
        ))}
      </ul>
      <ActionButton
        id="create-access-key"
        label="Create access key"
        run={async () => {
          const answer = await session.iam.send(new CreateAccessKeyCommand({ UserName: userName }));
          setCreated(answer.AccessKey);
          keys.reload();
        }}
      />
      {created ? (
        <article class="new-key" id="new-access-key" aria-live="polite">
          <p>
            <strong>Copy the secret access key now: it is shown only this once.</strong>
          </p>
          <p>
            Access key ID: <code id="new-access-key-id">{created.AccessKeyId}</code>
          </p>
          <p>
            Secret access key: <code id="new-secret-access-key">{created.SecretAccessKey}</code>
          </p>
          <button type="button" class="secondary" onClick={() => setCreated(undefined)}>
            Done
          </button>
        </article>
      ) : null}
      <h4>Policies</h4>
      <ErrorNote error={attached.error ?? inline.error} />
      <ul>
        {(attached.data?.AttachedPolicies ?? []).map((policy) => (
          <li>
            managed: <code>{policy.PolicyArn}</code>
          </li>
        ))}
        {(inline.data?.PolicyNames ?? []).map((name) => (
          <li>
            inline: <code>{name}</code>
          </li>
        ))}
      </ul>
    </Section>
  );
}
