import { CreateSecretCommand } from '@aws-sdk/client-secrets-manager';
import { useState } from 'preact/hooks';
import type { Session } from '../api.js';
import { navigate } from '../router.js';
import { ErrorNote } from '../ui.js';
import { ValueEditor } from './json-editor.js';

export function NewSecretPage({ session }: { session: Session }) {
  const [value, setValue] = useState('{}');
  const [error, setError] = useState<unknown>();
  const [busy, setBusy] = useState(false);

  const submit = async (event: SubmitEvent) => {
    event.preventDefault();
    const form = event.currentTarget as HTMLFormElement;
    const field = (name: string) => (form.elements.namedItem(name) as HTMLInputElement).value.trim();
    setBusy(true);
    setError(undefined);
    try {
      const tags = field('tags')
        .split(',')
        .map((entry) => entry.trim())
        .filter(Boolean)
        .map((entry) => {
          const [key = '', ...rest] = entry.split('=');
          return { Key: key.trim(), Value: rest.join('=').trim() };
        });
      const created = await session.secrets.send(
        new CreateSecretCommand({ Name: field('name'), Description: field('description') || undefined, KmsKeyId: field('kmsKeyId') || undefined, SecretString: value, Tags: tags.length ? tags : undefined }),
      );
      navigate({ page: 'secret', id: created.ARN! });
    } catch (caught) {
      setError(caught);
    } finally {
      setBusy(false);
    }
  };

  return (
    <>
      <h1>New secret</h1>
      <form onSubmit={submit}>
        <label>
          Name
          <input name="name" id="secret-name" required maxLength={512} />
        </label>
        <label>
          Description
          <input name="description" id="secret-description" maxLength={2048} />
        </label>
        <label>
          KMS key <small>(empty: aws/secretsmanager)</small>
          <input name="kmsKeyId" placeholder="alias/… or key id" />
        </label>
        <label>
          Tags <small>(key=value, comma separated)</small>
          <input name="tags" id="secret-tags" />
        </label>
        <ValueEditor onChange={setValue} />
        <ErrorNote error={error} />
        <button type="submit" id="create-secret" aria-busy={busy} disabled={busy}>
          Create secret
        </button>
      </form>
    </>
  );
}
