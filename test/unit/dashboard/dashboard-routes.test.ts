// The dashboard's static routes: the page at `/`, its assets with their content types, and nothing
// outside the dashboard directory whatever the path says.
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { createDashboardRoutes } from '../../../src/daemon/dashboard/dashboard-routes.js';

describe('dashboard routes', () => {
  const app = createDashboardRoutes();

  it('serves the page at / and its assets with their content types and a strict content security policy', async () => {
    const page = await app.request('/');
    expect(page.status).toBe(200);
    expect(page.headers.get('content-type')).toBe('text/html; charset=utf-8');
    expect(page.headers.get('content-security-policy')).toContain("connect-src 'self'");
    const html = await page.text();
    expect(html).toContain('/dashboard/main.js');
    expect(html).not.toMatch(/https?:\/\//);
    for (const [path, type] of [
      ['/dashboard/main.js', 'text/javascript; charset=utf-8'],
      ['/dashboard/dashboard.css', 'text/css; charset=utf-8'],
      ['/dashboard/timeline.css', 'text/css; charset=utf-8'],
      ['/dashboard/icon.svg', 'image/svg+xml'],
    ]) {
      const answer = await app.request(path!);
      expect(answer.status, path).toBe(200);
      expect(answer.headers.get('content-type'), path).toBe(type);
      expect(answer.headers.get('x-content-type-options')).toBe('nosniff');
    }
  });

  it('answers 404 for anything that is not a known file under the dashboard directory', async () => {
    for (const path of [
      '/dashboard/../package.json',
      '/dashboard/%2e%2e/package.json',
      '/dashboard/..%2fpackage.json',
      '/dashboard/%2e%2e%2f%2e%2e%2fetc%2fpasswd',
      '/dashboard/..%5c..%5cpackage.json',
      '/dashboard/.hidden.js',
      '/dashboard//etc/passwd',
      '/dashboard/main.js%00.css',
      '/dashboard/nothing.js',
      '/dashboard/README.md',
      '/dashboard/%zz',
    ]) {
      const answer = await app.request(path);
      expect(answer.status, path).toBe(404);
      expect(await answer.text()).not.toContain('holdfast');
    }
  });

  it('reads from the directory it is given, subdirectories included', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'hf-dashboard-'));
    mkdirSync(join(dir, 'views'));
    writeFileSync(join(dir, 'index.html'), '<!doctype html><title>x</title>');
    writeFileSync(join(dir, 'views', 'a.js'), 'export const a = 1;');
    writeFileSync(join(dir, 'secret.txt'), 'no');
    const custom = createDashboardRoutes({ dir });
    expect(await (await custom.request('/')).text()).toContain('<title>x</title>');
    expect(await (await custom.request('/dashboard/views/a.js')).text()).toBe('export const a = 1;');
    expect((await custom.request('/dashboard/secret.txt')).status).toBe(404);
  });
});
