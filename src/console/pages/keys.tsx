import { CreateKeyCommand, DescribeKeyCommand, ListAliasesCommand, ListKeysCommand, type AliasListEntry, type KeyMetadata } from '@aws-sdk/client-kms';
import { useState } from 'preact/hooks';
import type { Session } from '../api.js';
import { href, navigate } from '../router.js';
import { ActionButton, ErrorNote, formatDate, Loading, useLoad } from '../ui.js';

const PAGE_SIZE = 25;

/** ListKeys (Marker paging), each key's DescribeKey, and the account's aliases. */
export function KeysPage({ session }: { session: Session }) {
  const [markers, setMarkers] = useState<Array<string | undefined>>([undefined]);
  const marker = markers[markers.length - 1];
  const keys = useLoad(async () => {
    const [page, aliases] = await Promise.all([session.kms.send(new ListKeysCommand({ Limit: PAGE_SIZE, Marker: marker })), listAllAliases(session)]);
    const described = await Promise.all((page.Keys ?? []).map((key) => session.kms.send(new DescribeKeyCommand({ KeyId: key.KeyId })).then((answer) => answer.KeyMetadata!)));
    return { keys: described, aliases, next: page.Truncated ? page.NextMarker : undefined };
  }, [marker]);

  return (
    <>
      <div class="page-head">
        <h1>Keys</h1>
        <ActionButton
          id="create-key"
          label="Create key"
          run={async () => {
            const created = await session.kms.send(new CreateKeyCommand({ Description: 'created in the Coffer console' }));
            navigate({ page: 'key', id: created.KeyMetadata!.KeyId! });
          }}
        />
      </div>
      <ErrorNote error={keys.error} />
      {keys.loading && !keys.data ? <Loading what="keys" /> : null}
      {keys.data ? <KeyTable keys={keys.data.keys} aliases={keys.data.aliases} /> : null}
      <nav class="pager" aria-label="Pages">
        <button type="button" class="secondary" disabled={markers.length < 2} onClick={() => setMarkers(markers.slice(0, -1))}>
          Previous
        </button>
        <span>Page {markers.length}</span>
        <button type="button" class="secondary" disabled={!keys.data?.next} onClick={() => setMarkers([...markers, keys.data?.next])}>
          Next
        </button>
      </nav>
    </>
  );
}

export async function listAllAliases(session: Session, keyId?: string): Promise<AliasListEntry[]> {
  const aliases: AliasListEntry[] = [];
  let marker: string | undefined;
  do {
    const page = await session.kms.send(new ListAliasesCommand({ KeyId: keyId, Limit: 100, Marker: marker }));
    aliases.push(...(page.Aliases ?? []));
    marker = page.Truncated ? page.NextMarker : undefined;
  } while (marker);
  return aliases;
}

function KeyTable({ keys, aliases }: { keys: KeyMetadata[]; aliases: AliasListEntry[] }) {
  if (keys.length === 0) return <p>No keys yet.</p>;
  return (
    <div class="overflow-auto">
      <table class="striped" id="keys-table">
        <thead>
          <tr>
            <th scope="col">Key</th>
            <th scope="col">Aliases</th>
            <th scope="col">State</th>
            <th scope="col">Spec / usage</th>
            <th scope="col">Manager</th>
            <th scope="col">Created</th>
            <th scope="col">Deletion</th>
          </tr>
        </thead>
        <tbody>
          {keys.map((key) => (
            <tr key={key.KeyId}>
              <td class="key-cell">
                <a href={href({ page: 'key', id: key.KeyId! })}>
                  <code>{key.KeyId}</code>
                </a>
                {key.Description ? <small class="block">{key.Description}</small> : null}
              </td>
              <td>
                {aliases
                  .filter((alias) => alias.TargetKeyId === key.KeyId)
                  .map((alias) => (
                    <kbd class="tag">{alias.AliasName}</kbd>
                  ))}
              </td>
              <td>
                <KeyState state={key.KeyState} />
              </td>
              <td>
                {key.KeySpec} / {key.KeyUsage}
              </td>
              <td>{key.KeyManager}</td>
              <td>{formatDate(key.CreationDate)}</td>
              <td>{key.DeletionDate ? formatDate(key.DeletionDate) : '—'}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}

export function KeyState({ state }: { state: string | undefined }) {
  return <span class={`state state-${(state ?? '').toLowerCase()}`}>{state}</span>;
}
