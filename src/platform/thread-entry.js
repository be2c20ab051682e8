// Bootstrap of holdfast's worker threads. Plain JavaScript so it runs before any loader: when the
// thread's module is TypeScript source (running from a checkout, under tsx or vitest), it
// registers tsx in this thread first. From the compiled package the module is JavaScript and
// nothing is registered.
import { workerData } from 'node:worker_threads';

const { module: target, data } = workerData;
if (target.endsWith('.ts')) {
  const { register } = await import('tsx/esm/api');
  register();
}
const { runThread } = await import(target);
await runThread(data);
