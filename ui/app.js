import { render } from 'preact';
import { useEffect, useState } from 'preact/hooks';
import { api, session } from './lib/api.js';
import { html } from './lib/html.js';
import { ErrorNote } from './components/common.js';
import { Overview } from './pages/overview.js';
import { Queue } from './pages/queue.js';
import { Errata } from './pages/errata.js';
import { TestList, TestPage } from './pages/tests.js';
import { Approvals } from './pages/approvals.js';
import { DeploymentList, DeploymentPage } from './pages/deployments.js';
import { TestSystems } from './pages/test-systems.js';

// The shell: sign-in, the navigation, and a hash router (#/queue, #/tests/12, ...). Routes live in the hash so
// the server only ever serves /ui/ and nothing about a page (let alone the token) reaches a server log.

export const settings = {
  temporalUiUrl: document.querySelector('meta[name="spm-temporal-ui"]')?.content ?? 'http://127.0.0.1:8233',
  temporalNamespace: document.querySelector('meta[name="spm-temporal-namespace"]')?.content ?? 'default',
};

const PAGES = [
  { path: 'overview', title: 'Overview', component: Overview },
  { path: 'approvals', title: 'Approvals', component: Approvals },
  { path: 'queue', title: 'Queue', component: Queue },
  { path: 'tests', title: 'Tests', component: TestList, detail: TestPage },
  { path: 'deployments', title: 'Deployments', component: DeploymentList, detail: DeploymentPage },
  { path: 'errata', title: 'Errata', component: Errata },
  { path: 'test-systems', title: 'Test systems', component: TestSystems },
];

function parseHash() {
  const [path = 'overview', id] = location.hash.replace(/^#\/?/, '').split('/');
  return { path: PAGES.some((p) => p.path === path) ? path : 'overview', id: id && /^\d{1,10}$/.test(id) ? Number(id) : null };
}

function SignIn({ onSignedIn }) {
  const [token, setToken] = useState('');
  const [error, setError] = useState(null);
  const [busy, setBusy] = useState(false);
  const submit = async (e) => {
    e.preventDefault();
    setBusy(true);
    setError(null);
    try {
      const me = await api('/auth/me', { token: token.trim() });
      session.set(token.trim());
      onSignedIn(me);
    } catch (err) {
      setError(err.status === 401 ? new Error('That token is not valid.') : err);
      setBusy(false);
    }
  };
  return html`<main id="main" class="signin">
    <h1>SPM Orchestrator</h1>
    <form onSubmit=${submit} class="card">
      <h2>Sign in</h2>
      <p>Paste your API bearer token. It stays in this tab only (session storage) and is sent only in the Authorization header.</p>
      <label class="field" for="token"><span>API token</span>
        <input id="token" type="password" autocomplete="off" required minlength="8" maxlength="512" value=${token} onInput=${(e) => setToken(e.currentTarget.value)} /></label>
      <${ErrorNote} error=${error} />
      <button type="submit" class="primary" disabled=${busy}>${busy ? 'Signing in…' : 'Sign in'}</button>
    </form>
  </main>`;
}

function App() {
  const [me, setMeState] = useState(() => (session.token() ? session.me() : null));
  const [checking, setChecking] = useState(Boolean(session.token()) && !session.me());
  const setMe = (m) => {
    if (m) session.setMe(m);
    setMeState(m);
  };
  const [route, setRoute] = useState(parseHash);

  useEffect(() => {
    const onHash = () => setRoute(parseHash());
    const onUnauthorized = () => {
      session.clear();
      setMeState(null);
    };
    window.addEventListener('hashchange', onHash);
    window.addEventListener('spm:unauthorized', onUnauthorized);
    if (session.token()) {
      // Rendered from the cached answer already; the role is checked again (a revoked token signs out).
      api('/auth/me')
        .then(setMe, () => (session.clear(), setMe(null)))
        .finally(() => setChecking(false));
    }
    return () => {
      window.removeEventListener('hashchange', onHash);
      window.removeEventListener('spm:unauthorized', onUnauthorized);
    };
  }, []);

  useEffect(() => {
    const page = PAGES.find((p) => p.path === route.path);
    document.title = `${page?.title ?? 'Dashboard'}${route.id ? ` ${route.id}` : ''} · SPM Orchestrator`;
  }, [route]);

  if (checking) return html`<p class="boot">Checking your session…</p>`;
  if (!me) return html`<${SignIn} onSignedIn=${setMe} />`;

  const page = PAGES.find((p) => p.path === route.path) ?? PAGES[0];
  const View = route.id !== null && page.detail ? page.detail : page.component;
  const signOut = () => {
    session.clear();
    setMeState(null);
  };
  return html`
    <a class="skip" href="#main" onClick=${(e) => (e.preventDefault(), document.getElementById('main')?.focus())}>Skip to content</a>
    <header class="top">
      <span class="brand">SPM Orchestrator</span>
      <nav aria-label="Pages">
        <ul>${PAGES.map((p) => html`<li><a href=${`#/${p.path}`} aria-current=${p.path === page.path ? 'page' : undefined}>${p.title}</a></li>`)}</ul>
      </nav>
      <div class="whoami">
        <span>Signed in as <strong data-testid="who">${me.name}</strong> (<span data-testid="role">${me.role}</span>)</span>
        <button type="button" onClick=${signOut}>Sign out</button>
      </div>
    </header>
    <main id="main" tabindex="-1">
      <${View} key=${`${page.path}/${route.id ?? ''}`} me=${me} id=${route.id} settings=${settings} />
    </main>`;
}

const root = document.getElementById('app');
root.textContent = '';
render(html`<${App} />`, root);
