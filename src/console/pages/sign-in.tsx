import { useState } from 'preact/hooks';
import { signIn, type Session } from '../api.js';
import { ErrorNote } from '../ui.js';

/**
 * Sign-in with an access key pair (and a session token for temporary credentials). The form is never
 * submitted anywhere: its values go to signIn() and are then cleared from the form.
 */
export function SignInPage({ onSignedIn }: { onSignedIn(session: Session): void }) {
  const [error, setError] = useState<unknown>();
  const [busy, setBusy] = useState(false);

  const submit = async (event: SubmitEvent) => {
    event.preventDefault();
    const form = event.currentTarget as HTMLFormElement;
    const field = (name: string) => (form.elements.namedItem(name) as HTMLInputElement).value.trim();
    setBusy(true);
    setError(undefined);
    performance.mark('console:sign-in');
    try {
      const sessionToken = field('sessionToken');
      const session = await signIn(
        { accessKeyId: field('accessKeyId'), secretAccessKey: field('secretAccessKey'), ...(sessionToken ? { sessionToken } : {}) },
        field('region') || 'us-east-1',
      );
      form.reset();
      onSignedIn(session);
    } catch (caught) {
      setError(caught);
    } finally {
      setBusy(false);
    }
  };

  return (
    <article class="sign-in-card">
      <h1>Sign in</h1>
      <p>Use an access key of this Coffer server. It stays in this tab's memory and is forgotten when you sign out or reload.</p>
      {window.isSecureContext ? null : (
        <p role="alert" class="error" id="insecure-context">
          This page is not a secure context: browsers offer the cryptography that signs requests only over HTTPS or on localhost. Open the console through a
          TLS proxy, or on 127.0.0.1 (an SSH tunnel).
        </p>
      )}
      <form onSubmit={submit} autocomplete="off">
        <label>
          Access key ID
          <input name="accessKeyId" id="access-key-id" required autocomplete="off" spellcheck={false} />
        </label>
        <label>
          Secret access key
          <input name="secretAccessKey" id="secret-access-key" type="password" required autocomplete="off" />
        </label>
        <label>
          Session token <small>(temporary credentials only)</small>
          <input name="sessionToken" type="password" autocomplete="off" />
        </label>
        <label>
          Region
          <input name="region" defaultValue="us-east-1" autocomplete="off" />
        </label>
        <button type="submit" id="sign-in" aria-busy={busy} disabled={busy}>
          Sign in
        </button>
      </form>
      <ErrorNote error={error} />
    </article>
  );
}
