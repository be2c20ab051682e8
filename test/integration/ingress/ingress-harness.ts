// A real kernel on a fresh SQLite file behind the webhook ingress, driven in process with
// `app.request(...)`, and signed GitHub deliveries to send it.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createKernel, defineFlow, sqliteStore, type Json, type Kernel, type Store } from 'holdfast';
import type { CommandSink } from '../../../src/daemon/command-sink.js';
import { signGithub } from '../../support/github-payloads.js';

export const SECRET = 'It is a secret to everybody';

/** Records its input as a step and returns it: the run's result is the command it was given. */
export const githubEventFlow = defineFlow('github-event', async (ctx, input: Json) => ctx.step('received', () => input));
export const otherFlow = defineFlow('other-event', async (ctx, input: Json) => ctx.step('received', () => input));

export interface IngressKernel {
  readonly kernel: Kernel;
  readonly store: Store;
  readonly submit: CommandSink;
  /** Every run in the store. */
  runs(): ReturnType<Store['listRuns']>;
  close(): Promise<void>;
}

/** A kernel (started or a pure client) on a SQLite file of its own, and the sink over it. */
export async function openIngressKernel(options: { readonly start: boolean }): Promise<IngressKernel> {
  const dir = mkdtempSync(join(tmpdir(), 'hf-ingress-'));
  const store = sqliteStore({ path: join(dir, 'state.db'), synchronous: 'NORMAL' });
  const kernel = createKernel({ store, flows: [githubEventFlow, otherFlow], wake: null });
  if (options.start) await kernel.start();
  return {
    kernel,
    store,
    submit: async (command) => {
      const handle = await kernel.submit(command);
      return { runId: handle.id, created: handle.created };
    },
    runs: () => store.listRuns({ limit: 1_000_000 }),
    close: async () => {
      await kernel.stop();
      await store.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

export interface Delivery {
  readonly event?: string | null;
  readonly delivery?: string | null;
  readonly body: Buffer | string;
  /** Default: signed with SECRET; null sends no signature. */
  readonly signature?: string | null;
  readonly contentType?: string | null;
}

/** The request GitHub would send for `delivery`. */
export function githubRequest(delivery: Delivery, path = '/webhooks/github'): Request {
  const body = typeof delivery.body === 'string' ? Buffer.from(delivery.body) : delivery.body;
  const headers = new Headers();
  const contentType = delivery.contentType === undefined ? 'application/json' : delivery.contentType;
  if (contentType !== null) headers.set('content-type', contentType);
  const signature = delivery.signature === undefined ? signGithub(SECRET, body) : delivery.signature;
  if (signature !== null) headers.set('x-hub-signature-256', signature);
  const event = delivery.event === undefined ? 'issue_comment' : delivery.event;
  if (event !== null) headers.set('x-github-event', event);
  const id = delivery.delivery === undefined ? '72d3162e-cc78-11e3-81ab-4c9367dc0958' : delivery.delivery;
  if (id !== null) headers.set('x-github-delivery', id);
  headers.set('user-agent', 'GitHub-Hookshot/044aadd');
  return new Request(`http://holdfast.test${path}`, { method: 'POST', headers, body });
}

/** A JSON delivery of `payload` for `event` with delivery id `id`, signed with SECRET. */
export function githubDelivery(event: string, id: string, payload: unknown): Request {
  return githubRequest({ event, delivery: id, body: JSON.stringify(payload) });
}
