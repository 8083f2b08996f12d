import { useState } from 'preact/hooks';
import { assumeWebIdentity, signIn, type Credentials, type Session } from '../api.js';
import { ErrorNote } from '../ui.js';

type Mode = 'access-key' | 'web-identity';

/**
 * Sign-in with an access key pair (and a session token for temporary credentials), or with web identity: an
 * OpenID Connect token and the role it may assume. The form is never submitted anywhere: its values go to the
 * API calls and the form is then cleared.
 */
export function SignInPage({ onSignedIn }: { onSignedIn(session: Session): void }) {
  const [mode, setMode] = useState<Mode>('access-key');
  const [error, setError] = useState<unknown>();
  const [busy, setBusy] = useState(false);

  const submit = async (event: SubmitEvent) => {
    event.preventDefault();
    const form = event.currentTarget as HTMLFormElement;
    const field = (name: string) => ((form.elements.namedItem(name) as HTMLInputElement | null)?.value ?? '').trim();
    setBusy(true);
    setError(undefined);
    performance.mark('console:sign-in');
    try {
      const region = field('region') || 'us-east-1';
      let credentials: Credentials;
      if (mode === 'web-identity') {
        credentials = await assumeWebIdentity({ roleArn: field('roleArn'), token: field('webIdentityToken'), sessionName: field('sessionName') || 'coffer-console' }, region);
      } else {
        const sessionToken = field('sessionToken');
        credentials = { accessKeyId: field('accessKeyId'), secretAccessKey: field('secretAccessKey'), ...(sessionToken ? { sessionToken } : {}) };
      }
      const session = await signIn(credentials, region);
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
      <p>Your credentials stay in this tab's memory and are forgotten when you sign out or reload.</p>
      {window.isSecureContext ? null : (
        <p role="alert" class="error" id="insecure-context">
          This page is not a secure context: browsers offer the cryptography that signs requests only over HTTPS or on localhost. Open the console through a
          TLS proxy, or on 127.0.0.1 (an SSH tunnel).
        </p>
      )}
      <div role="group" aria-label="Sign in with">
        <button type="button" id="mode-access-key" class={mode === 'access-key' ? '' : 'secondary outline'} aria-pressed={mode === 'access-key'} onClick={() => setMode('access-key')}>
          Access key
        </button>
        <button type="button" id="mode-web-identity" class={mode === 'web-identity' ? '' : 'secondary outline'} aria-pressed={mode === 'web-identity'} onClick={() => setMode('web-identity')}>
          Web identity
        </button>
      </div>
      <form onSubmit={submit} autocomplete="off">
        {mode === 'access-key' ? (
          <>
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
          </>
        ) : (
          <>
            <label>
              Role ARN
              <input name="roleArn" id="role-arn" required autocomplete="off" spellcheck={false} placeholder="arn:aws:iam::123456789012:role/name" />
            </label>
            <label>
              OpenID Connect token
              <textarea name="webIdentityToken" id="web-identity-token" required rows={3} spellcheck={false} />
            </label>
            <label>
              Session name
              <input name="sessionName" defaultValue="coffer-console" autocomplete="off" />
            </label>
          </>
        )}
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
