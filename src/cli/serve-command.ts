import { parseArgs } from 'node:util';
import { createDaemonLogger } from '../daemon/daemon-logger.js';
import { runUntilSignal } from '../daemon/lifetime.js';
import { findConfigFile, loadConfig } from '../daemon/load-config.js';
import { startDaemon } from '../daemon/serve.js';
import { EXIT, type CliIo } from './cli-io.js';

const USAGE = `usage: holdfast serve [--config FILE] [--port N]

Runs the daemon: the kernel (or config.workers supervised worker processes) on the configured
store, GitHub webhook ingress at POST /webhooks/github, the admin API under /v1 (bearer token
when config.adminToken is set), /healthz and /readyz.

--config FILE  holdfast.config.{ts,mjs,js,json} (default: the first found in the working directory)
--port N       overrides http.port (0 picks a free port)

Prints one line "listening on http://HOST:PORT" on stdout once ready; structured logs (JSON lines,
readable on a terminal) go to stderr. SIGTERM exits 143 and SIGINT 130 after an orderly teardown
(runs in flight are parked or requeued, leases released); a second signal is ignored.
HOLDFAST_GITHUB_SECRET and HOLDFAST_ADMIN_TOKEN override the config's secret and token.
exit codes: 1 the daemon could not start (or its supervisor gave up), 2 usage error or an invalid
config, 143 after SIGTERM, 130 after SIGINT`;

/** `holdfast serve`: resolves with an exit code only when the daemon could not start; otherwise the lifetime guard exits. */
export async function runServeCommand(args: string[], io: CliIo): Promise<number> {
  let values;
  try {
    ({ values } = parseArgs({
      args,
      options: { config: { type: 'string' }, port: { type: 'string' }, help: { type: 'boolean', short: 'h' } },
    }));
  } catch (error) {
    io.stderr(`holdfast serve: ${(error as Error).message}\n${USAGE}\n`);
    return EXIT.usage;
  }
  if (values.help) {
    io.stdout(`${USAGE}\n`);
    return EXIT.done;
  }
  const port = values.port === undefined ? undefined : Number(values.port);
  if (port !== undefined && (!Number.isInteger(port) || port < 0 || port > 65535)) {
    io.stderr(`holdfast serve: --port must be an integer from 0 to 65535, got "${values.port}"\n`);
    return EXIT.usage;
  }
  const loaded = await loadConfig(findConfigFile(io.cwd, values.config), io.env ?? {});
  const logger = createDaemonLogger({ level: loaded.config.log?.level, pretty: io.stderrIsTerminal === true });
  let teardown: () => Promise<void> = async () => {};
  const end = runUntilSignal({ logger, timeoutMs: loaded.config.shutdown?.timeoutMs ?? 30_000, teardown: () => teardown() });
  const daemon = await startDaemon({
    loaded,
    logger,
    port,
    onGiveUp: (message) => {
      io.stderr(`holdfast serve: ${message}\n`);
      end('the supervisor gave up', EXIT.failure);
    },
  });
  teardown = () => daemon.teardown();
  io.stdout(`listening on ${daemon.url}\n`);
  return new Promise<number>(() => {});
}
