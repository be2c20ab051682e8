import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { dirname, extname, join, resolve, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Hono, type Context } from 'hono';

export interface DashboardRoutesOptions {
  /** The directory holding index.html and the assets; default: the package's `dashboard/`. */
  readonly dir?: string;
}

/** What each served extension is sent as; any other file is answered 404. */
const CONTENT_TYPES: Readonly<Record<string, string>> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.json': 'application/json; charset=utf-8',
};

/**
 * The page may load only its own files and call only its own origin: no CDN, no inline script,
 * no framing. Styles set through the DOM (`element.style`) are not inline styles for CSP.
 */
const CONTENT_SECURITY_POLICY = [
  "default-src 'none'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self' data:",
  "connect-src 'self'",
  "base-uri 'none'",
  "form-action 'none'",
  "frame-ancestors 'none'",
].join('; ');

/**
 * The live dashboard (I3): `GET /` answers the page, `GET /dashboard/<file>` its scripts and
 * styles, read from the package's `dashboard/` directory. Only files directly under that directory
 * or its subdirectories with a known extension are served; a path with `..`, a backslash, a NUL or
 * an encoded slash is answered 404, and a resolved path outside the directory is never read. The
 * page holds no data: everything it shows comes from the admin API (`/v1/*`), which keeps its own
 * bearer-token check.
 */
export function createDashboardRoutes(options: DashboardRoutesOptions = {}): Hono {
  const root = resolve(options.dir ?? findDashboardDir());
  const app = new Hono();
  app.get('/', (c) => serveFile(c, root, 'index.html'));
  app.get('/dashboard', (c) => c.redirect('/', 301));
  app.get('/dashboard/*', (c) => {
    const relative = safeRelativePath(c.req.path.slice('/dashboard/'.length));
    if (relative === null) return notFound(c);
    return serveFile(c, root, relative);
  });
  return app;
}

/** `dashboard/` of the package: the nearest one above this module (src/daemon/dashboard or dist/src/daemon/dashboard). */
function findDashboardDir(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (let i = 0; i < 8; i++) {
    const candidate = join(dir, 'dashboard');
    if (existsSync(join(candidate, 'index.html'))) return candidate;
    const parent = dirname(dir);
    if (parent === dir) break;
    dir = parent;
  }
  return join(dirname(fileURLToPath(import.meta.url)), '..', '..', '..', 'dashboard');
}

/** The decoded path below the asset root, or null when it is not a plain relative file path. */
function safeRelativePath(raw: string): string | null {
  if (/%2f|%5c|%00/i.test(raw)) return null;
  let decoded: string;
  try {
    decoded = decodeURIComponent(raw);
  } catch {
    return null;
  }
  if (decoded === '' || decoded.includes('\\') || decoded.includes('\0') || decoded.startsWith('/')) return null;
  const segments = decoded.split('/');
  if (segments.some((s) => s === '' || s === '.' || s === '..' || s.startsWith('.'))) return null;
  return segments.join('/');
}

async function serveFile(c: Context, root: string, relative: string): Promise<Response> {
  const type = CONTENT_TYPES[extname(relative).toLowerCase()];
  const path = resolve(root, relative);
  if (type === undefined || !path.startsWith(root + sep)) return notFound(c);
  let body: Buffer;
  try {
    body = await readFile(path);
  } catch {
    return notFound(c);
  }
  return c.body(new Uint8Array(body), 200, {
    'content-type': type,
    'cache-control': 'no-cache',
    'x-content-type-options': 'nosniff',
    'referrer-policy': 'no-referrer',
    'content-security-policy': CONTENT_SECURITY_POLICY,
  });
}

function notFound(c: Context): Response {
  return c.json({ error: { code: 'not_found', message: `no dashboard file ${c.req.path}; the dashboard is served at /` } }, 404);
}
