// A worker process of `holdfast serve` with `workers: N`: loads the same config, runs one kernel on
// the configured store, beats a heartbeat to the daemon, and tears down on SIGTERM/SIGINT or when
// the daemon goes away (so no worker outlives it).
import { exitProcess, onParentGone, onParentMessage, sendToParent } from '../platform/termination-signals.js';
import { systemClock } from '../platform/system-clock.js';
import { createDaemonLogger } from './daemon-logger.js';
import { createDaemonKernel, openConfiguredStore, registerSchedules, wakeWithHints } from './daemon-kernel.js';
import { runUntilSignal } from './lifetime.js';
import { loadConfig } from './load-config.js';
import { asDaemonMessage, HEARTBEAT_MS } from './worker-protocol.js';

const [configFile, slot] = process.argv.slice(2);
const logger = createDaemonLogger({ pretty: process.stderr.isTTY === true, name: `holdfast-worker-${slot}` });

try {
  const { config } = await loadConfig(configFile!, process.env);
  const { store } = openConfiguredStore(config);
  const wake = wakeWithHints(store, logger, (deliver) =>
    onParentMessage((raw) => {
      const message = asDaemonMessage(raw);
      if (message) deliver(message);
    }),
  );
  const kernel = createDaemonKernel(config, store, logger, wake);
  await kernel.start();
  await registerSchedules(kernel, config);
  const beat = () => {
    sendToParent({ type: 'beat' });
    timer = systemClock.setTimer(HEARTBEAT_MS, beat);
  };
  let timer = systemClock.setTimer(HEARTBEAT_MS, beat);
  sendToParent({ type: 'ready', ownerId: kernel.ownerId });
  runUntilSignal({
    logger,
    timeoutMs: config.shutdown?.timeoutMs ?? 30_000,
    onParentGone,
    teardown: async () => {
      timer.cancel();
      await kernel.stop({ timeoutMs: config.shutdown?.timeoutMs ?? 30_000 });
      await store.close();
    },
  });
} catch (error) {
  const message = error instanceof Error ? error.message : String(error);
  logger.error('worker could not start', { error });
  sendToParent({ type: 'fatal', message });
  exitProcess(1);
}
