/**
 * The Coffer web console: a client of Coffer's public API (Secrets Manager, KMS, IAM, STS, CloudTrail
 * LookupEvents) running in the browser. It imports nothing of the server: every action is a signed API call, so
 * the same policies decide and the same audit log records it.
 */
import '@picocss/pico/css/pico.min.css';
import './styles.css';
import { render } from 'preact';
import { useEffect, useState } from 'preact/hooks';
import type { Session } from './api.js';
import { AuditPage } from './pages/audit.js';
import { IdentityPage } from './pages/identity.js';
import { KeyPage } from './pages/key.js';
import { KeysPage } from './pages/keys.js';
import { SecretPage } from './pages/secret.js';
import { NewSecretPage } from './pages/secret-new.js';
import { SecretsPage } from './pages/secrets.js';
import { SignInPage } from './pages/sign-in.js';
import { href, useRoute, type Route } from './router.js';

type Theme = 'light' | 'dark';

function App() {
  const [session, setSession] = useState<Session>();
  const route = useRoute();
  const [theme, setTheme] = useState<Theme>(() => (window.matchMedia('(prefers-color-scheme: dark)').matches ? 'dark' : 'light'));
  useEffect(() => {
    document.documentElement.dataset.theme = theme;
  }, [theme]);

  const signOut = () => {
    session?.close();
    setSession(undefined);
    window.location.hash = '';
  };
  const themeToggle = (
    <button type="button" class="secondary outline theme-toggle" onClick={() => setTheme(theme === 'dark' ? 'light' : 'dark')} aria-label={`Switch to ${theme === 'dark' ? 'light' : 'dark'} theme`}>
      {theme === 'dark' ? 'Light' : 'Dark'}
    </button>
  );

  if (!session) {
    return (
      <main class="container sign-in">
        <nav>
          <ul>
            <li>
              <strong>Coffer</strong>
            </li>
          </ul>
          <ul>
            <li>{themeToggle}</li>
          </ul>
        </nav>
        <SignInPage onSignedIn={setSession} />
      </main>
    );
  }
  return (
    <>
      <header class="container">
        <nav aria-label="Main">
          <ul>
            <li>
              <strong>Coffer</strong>
            </li>
          </ul>
          <ul class="sections">
            <NavLink route={{ page: 'secrets' }} current={route} label="Secrets" />
            <NavLink route={{ page: 'keys' }} current={route} label="Keys" />
            <NavLink route={{ page: 'audit' }} current={route} label="Audit" />
            <NavLink route={{ page: 'identity' }} current={route} label="Identity" />
          </ul>
          <ul>
            <li>{themeToggle}</li>
            <li>
              <button type="button" class="secondary" id="sign-out" onClick={signOut}>
                Sign out
              </button>
            </li>
          </ul>
        </nav>
        <p class="who">
          Signed in as <code id="caller-arn">{session.identity.arn}</code> · {session.region}
        </p>
      </header>
      <main class="container">
        <Page route={route} session={session} />
      </main>
    </>
  );
}

function NavLink({ route, current, label }: { route: Route; current: Route; label: string }) {
  const active = current.page === route.page || current.page.startsWith(route.page.replace(/s$/, ''));
  return (
    <li>
      <a href={href(route)} aria-current={active ? 'page' : undefined}>
        {label}
      </a>
    </li>
  );
}

function Page({ route, session }: { route: Route; session: Session }) {
  switch (route.page) {
    case 'secrets':
      return <SecretsPage session={session} />;
    case 'secret-new':
      return <NewSecretPage session={session} />;
    case 'secret':
      return <SecretPage session={session} secretId={route.id} />;
    case 'keys':
      return <KeysPage session={session} />;
    case 'key':
      return <KeyPage session={session} keyId={route.id} />;
    case 'audit':
      return <AuditPage session={session} />;
    case 'identity':
      return <IdentityPage session={session} />;
  }
}

render(<App />, document.getElementById('app')!);
