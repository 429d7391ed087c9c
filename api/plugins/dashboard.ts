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

/** index.html with its settings filled in and its modules preloaded, and the CSP hash of its import map. */
export function renderIndex(settings: { temporalUiUrl: string; temporalNamespace: string }): { html: string; importMapHash: string } {
  const template = readFileSync(path.join(UI_ROOT, 'index.html'), 'utf8');
  const importMap = /<script type="importmap">([\s\S]*?)<\/script>/.exec(template)?.[1];
  if (importMap === undefined) throw new Error('ui/index.html has no import map');
  const preload = [...Object.keys(VENDOR_FILES).map((f) => `/ui/vendor/${f}`), ...appModules()]
    .map((href) => `<link rel="modulepreload" href="${href}">`)
    .join('\n  ');
  const html = template
    .replace('%TEMPORAL_UI_URL%', escapeAttr(settings.temporalUiUrl))
    .replace('%TEMPORAL_NAMESPACE%', escapeAttr(settings.temporalNamespace))
    .replace('<!--MODULEPRELOAD-->', preload);
  return { html, importMapHash: `'sha256-${createHash('sha256').update(importMap).digest('base64')}'` };
}

/** Registered without fastify-plugin: helmet's headers apply to the dashboard's routes only (Swagger UI keeps its own). */
export async function dashboard(app: FastifyInstance, opts: { temporalUiUrl: string; temporalNamespace: string }): Promise<void> {
  const { html, importMapHash } = renderIndex(opts);
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
