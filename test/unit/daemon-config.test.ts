// The daemon's config: every bad field is named with the expected shape; cross-field rules hold;
// the environment overrides the secret and the token; a JSON config names its flow module.
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { defineFlow } from '../../src/index.js';
import { validateConfig } from '../../src/daemon/config-schema.js';
import { findConfigFile, loadConfig } from '../../src/daemon/load-config.js';

const flow = defineFlow('review', async () => 'ok');

function problems(value: unknown): string {
  try {
    validateConfig(value, 'holdfast.config.ts');
  } catch (error) {
    return (error as Error).message;
  }
  return '';
}

describe('daemon config', () => {
  it('accepts a minimal config', () => {
    expect(problems({ store: 'state.db', flows: [flow] })).toBe('');
  });

  it('names every bad field and the expected shape', () => {
    const message = problems({
      store: 42,
      flows: [{ name: 'x' }],
      http: { port: 70_000 },
      ingress: { github: { routes: { pr_comment: { flow: 'review', priority: 'asap' } } } },
      workers: -1,
      colour: 'blue',
    });
    expect(message).toContain('store:');
    expect(message).toContain('flows.0: a flow made with defineFlow(name, fn)');
    expect(message).toContain('http.port:');
    expect(message).toContain('ingress.github.routes.pr_comment.priority:');
    expect(message).toContain('workers:');
    expect(message).toMatch(/colour/);
  });

  it('requires a token off loopback, a store location with workers, routes to known flows and a secret with routes', () => {
    expect(problems({ store: 'state.db', flows: [flow], http: { host: '0.0.0.0' } })).toContain(
      'adminToken: required when http.host is 0.0.0.0',
    );
    expect(problems({ store: 'state.db', flows: [flow], http: { host: '0.0.0.0' }, adminToken: 'a'.repeat(20) })).toBe('');
    const instance = { enqueue() {}, close() {} };
    expect(problems({ store: instance, flows: [flow], workers: 2 })).toContain('store: worker processes open the store themselves');
    expect(
      problems({ store: 'state.db', flows: [flow], ingress: { github: { secret: 's', routes: { pr_comment: { flow: 'nope' } } } } }),
    ).toContain('ingress.github.routes.pr_comment.flow: no flow named "nope"');
    expect(problems({ store: 'state.db', flows: [flow], ingress: { github: { routes: { pr_comment: { flow: 'review' } } } } })).toContain(
      'ingress.github.secret: required',
    );
  });

  it('loads a JSON config whose flows are a module path; the environment overrides secret and token; store paths resolve beside the file', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'holdfast-config-'));
    writeFileSync(
      join(dir, 'flows.mjs'),
      `export default [{ name: 'review', run: async () => 'ok', deadlineMs: undefined, retry: undefined }];\n`,
    );
    writeFileSync(
      join(dir, 'holdfast.config.json'),
      JSON.stringify({ store: 'data/state.db', flows: './flows.mjs', ingress: { github: { routes: { pr_comment: { flow: 'review' } } } } }),
    );
    const file = findConfigFile(dir);
    expect(file).toBe(join(dir, 'holdfast.config.json'));
    await expect(loadConfig(file, {})).rejects.toThrow('ingress.github.secret: required');
    const loaded = await loadConfig(file, { HOLDFAST_GITHUB_SECRET: 'from-env', HOLDFAST_ADMIN_TOKEN: 'token-from-the-environment' });
    expect(loaded.config.ingress?.github?.secret).toBe('from-env');
    expect(loaded.config.adminToken).toBe('token-from-the-environment');
    expect(loaded.config.store).toBe(join(dir, 'data', 'state.db'));
  });

  it('says where it looked when there is no config, and what a missing --config file is', () => {
    const dir = mkdtempSync(join(tmpdir(), 'holdfast-config-'));
    expect(() => findConfigFile(dir)).toThrow(/no holdfast\.config\.ts, .* in .*; create one/);
    expect(() => findConfigFile(dir, 'missing.ts')).toThrow(`no config file at ${join(dir, 'missing.ts')}`);
  });
});
