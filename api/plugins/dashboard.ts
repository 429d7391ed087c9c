import { createHash } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import helmet from '@fastify/helmet';
import fastifyStatic from '@fastify/static';
import type { FastifyInstance } from 'fastify';
import { PROJECT_ROOT } from '../../config/paths.js';

// The operator dashboard: static ES modules from ui/ at /ui/, the three libraries it uses (preact, its hooks,
// htm) straight from node_modules at /ui/vendor/, no bundler and nothing from another origin. The one inline
// script is the import map (it lets the modules say `import 'preact'`); its SHA-256 is the only exception to
// script-src 'self'. The page's settings (the Temporal Web UI to link to) travel in <meta> tags.

export const UI_ROOT = `${path.join(PROJECT_ROOT, 'ui')}${path.sep}`;

/** URL under /ui/vendor/ → the library file in node_modules (resolved as Node resolves an `import`). */
export const VENDOR_FILES: Record<string, string> = {
  'preact.mjs': fileURLToPath(import.meta.resolve('preact')),
  'preact-hooks.mjs': fileURLToPath(import.meta.resolve('preact/hooks')),
  'htm.mjs': fileURLToPath(import.meta.resolve('htm')),
};

const escapeAttr = (s: string) => s.replace(/&/g, '&amp;').replace(/"/g, '&quot;').replace(/</g, '&lt;').replace(/>/g, '&gt;');

/** Every module of the app (ui/**.js), as /ui/ URLs: preloaded together instead of one import level at a time. */
export function appModules(): string[] {
  return (readdirSync(UI_ROOT, { recursive: true }) as string[])
    .filter((f) => f.endsWith('.js') && !f.startsWith('docs'))
    .map((f) => `/ui/${f.split(path.sep).join('/')}`)
    .sort();
}

const fileOf = (url: string) => (url.startsWith('/ui/vendor/') ? VENDOR_FILES[url.slice('/ui/vendor/'.length)]! : path.join(UI_ROOT, url.slice('/ui/'.length)));

/**
 * Each asset's version: the first 16 hex digits of its content's SHA-256, keyed by its /ui/ URL. The page
 * asks for `<url>?v=<version>` and such a URL is cached for a year (its content never changes under it), so a
 * second visit loads nothing but index.html and the data.
 */
export function assetVersions(): Map<string, string> {
  const urls = ['/ui/styles.css', ...Object.keys(VENDOR_FILES).map((f) => `/ui/vendor/${f}`), ...appModules()];
  return new Map(urls.map((u) => [u, createHash('sha256').update(readFileSync(fileOf(u))).digest('hex').slice(0, 16)]));
}

/**
 * index.html with its settings filled in, every asset versioned and preloaded, and the CSP hash of its import
 * map. The import map sends the bare names (preact, htm) to the versioned vendor files and maps each app
 * module's URL to its versioned one, so the modules' own relative imports (`./lib/api.js`) reach the same
 * cached URLs without the sources knowing about versions.
 */
export function renderIndex(settings: { temporalUiUrl: string; temporalNamespace: string }, versions = assetVersions()): { html: string; importMapHash: string } {
  const template = readFileSync(path.join(UI_ROOT, 'index.html'), 'utf8');
  const declared = /<script type="importmap">([\s\S]*?)<\/script>/.exec(template)?.[1];
  if (declared === undefined) throw new Error('ui/index.html has no import map');
  const versioned = (url: string) => (versions.has(url) ? `${url}?v=${versions.get(url)}` : url);
  const bare = (JSON.parse(declared) as { imports: Record<string, string> }).imports;
  const imports: Record<string, string> = Object.fromEntries(Object.entries(bare).map(([name, url]) => [name, versioned(url)]));
  for (const m of appModules()) imports[m] = versioned(m);
  const importMap = JSON.stringify({ imports });
  const preload = [...Object.keys(VENDOR_FILES).map((f) => `/ui/vendor/${f}`), ...appModules()]
    .map((href) => `<link rel="modulepreload" href="${versioned(href)}">`)
    .join('\n  ');
  const html = template
    .replace('%TEMPORAL_UI_URL%', escapeAttr(settings.temporalUiUrl))
    .replace('%TEMPORAL_NAMESPACE%', escapeAttr(settings.temporalNamespace))
    .replace(/<script type="importmap">[\s\S]*?<\/script>/, () => `<script type="importmap">${importMap}</script>`)
    .replace('href="/ui/styles.css"', `href="${versioned('/ui/styles.css')}"`)
    .replace('src="/ui/app.js"', `src="${versioned('/ui/app.js')}"`)
    .replace('<!--MODULEPRELOAD-->', preload);
  return { html, importMapHash: `'sha256-${createHash('sha256').update(importMap).digest('base64')}'` };
}

/** Registered without fastify-plugin: helmet's headers apply to the dashboard's routes only (Swagger UI keeps its own). */
export async function dashboard(app: FastifyInstance, opts: { temporalUiUrl: string; temporalNamespace: string }): Promise<void> {
  const versions = assetVersions();
  const { html, importMapHash } = renderIndex(opts, versions);
  await app.register(helmet, {
    contentSecurityPolicy: {
      useDefaults: false,
      directives: {
        defaultSrc: ["'none'"],
        scriptSrc: ["'self'", importMapHash],
        styleSrc: ["'self'"],
        imgSrc: ["'self'", 'data:'],
        connectSrc: ["'self'"],
        fontSrc: ["'self'"],
        baseUri: ["'none'"],
        formAction: ["'self'"],
        frameAncestors: ["'none'"],
      },
    },
    referrerPolicy: { policy: 'no-referrer' },
    crossOriginEmbedderPolicy: true,
  });

  const page = (_req: unknown, reply: { type(t: string): { header(k: string, v: string): { send(b: string): unknown } } }) =>
    reply.type('text/html; charset=utf-8').header('cache-control', 'no-cache').send(html);
  app.get('/ui/', { schema: { hide: true } }, page);
  app.get('/ui/index.html', { schema: { hide: true } }, page);
  for (const url of ['/', '/dashboard']) app.get(url, { schema: { hide: true } }, (_req, reply) => reply.redirect('/ui/', 302));

  // A versioned URL of the current content is immutable; any other (no version, or an old one) is revalidated.
  app.addHook('onSend', async (req, reply, payload) => {
    const [pathname, search = ''] = req.url.split('?', 2);
    const v = new URLSearchParams(search).get('v');
    if (v !== null && reply.statusCode === 200 && versions.get(pathname!) === v) reply.header('cache-control', 'public, max-age=31536000, immutable');
    else if (v !== null) reply.header('cache-control', 'no-cache');
    return payload;
  });
  await app.register(fastifyStatic, {
    root: UI_ROOT,
    prefix: '/ui/',
    index: false,
    // index.html is served above with its settings; docs/ holds README screenshots, not the app
    allowedPath: (pathname) => !pathname.endsWith('index.html') && !pathname.startsWith('/docs/'),
    cacheControl: true,
    maxAge: 0,
  });
  for (const [name, file] of Object.entries(VENDOR_FILES)) {
    app.get(`/ui/vendor/${name}`, { schema: { hide: true } }, (_req, reply) =>
      reply.header('cache-control', 'public, max-age=3600').sendFile(path.basename(file), path.dirname(file)),
    );
  }
}
