// A process on its own with a pg-notify wake transport, for notify-wake.test.ts.
//   talk <url> <schema> <parent address>: listens, prints `address <its address>`, sends a wake to
//     the parent, prints each message it gets as `got <json>`; on a cancel it closes everything,
//     prints `closed`, and must then exit by itself (nothing left keeping it alive).
//   unreachable <url>: listens on a server that refuses connections, waits for its third failed
//     attempt (a reconnect timer is armed), closes, prints `closed`, and must exit by itself.
import { notifyWake } from '../../../src/stores/postgres/notify-wake.js';

const [mode, url, schema, parentAddress] = process.argv.slice(2);

if (mode === 'talk') {
  const wake = notifyWake({ connectionString: url!, schema: schema! });
  const listener = await wake.listen((message) => {
    console.log(`got ${JSON.stringify(message)}`);
    if (message.type !== 'cancel') return;
    void listener
      .close()
      .then(() => wake.close())
      .then(() => console.log('closed'));
  });
  console.log(`address ${listener.address}`);
  const sent = await wake.send(parentAddress!, { type: 'wake', key: 'from-child', urgent: true });
  console.log(`sent ${sent}`);
} else if (mode === 'unreachable') {
  let failures = 0;
  let thirdFailure = () => {};
  const failed = new Promise<void>((resolve) => (thirdFailure = resolve));
  const logger = {
    debug() {},
    info() {},
    error() {},
    warn(message: string) {
      if (message.includes('connection lost') && ++failures === 3) thirdFailure();
    },
  };
  const wake = notifyWake({ connectionString: url!, schema: 'unreachable', logger, reconnect: { initialMs: 20, maxMs: 100 } });
  const listener = await wake.listen(() => {});
  await failed; // retrying, with a reconnect timer armed
  console.log(`retried ${failures} times`);
  await listener.close();
  await wake.close();
  console.log('closed');
} else {
  console.error(`unknown mode ${mode}; use talk or unreachable`);
  process.exitCode = 2;
}
