import { EXIT, type CliIo } from './cli-io.js';
import { reportFailure } from './cli-errors.js';
import { runDoctorCommand } from './doctor-command.js';
import { runJournalCommand } from './journal-command.js';
import { runLaneCommand } from './lane-command.js';
import { runOperatorCommand } from './operator-command.js';
import { runOutboxCommand } from './outbox-command.js';
import { runRunsCommand } from './runs-command.js';
import { runServeCommand } from './serve-command.js';
import { runStatusCommand } from './status-command.js';
import { runSubmitCommand } from './submit-command.js';

const USAGE = `usage: holdfast <verb> [options]

verbs:
  serve      run the daemon: webhooks, admin API, kernel    (holdfast serve --help)
  status     keys, owners, epochs, mailboxes              (holdfast status --help)
  runs       list runs                                    (holdfast runs --help)
  run ID     show one run and its step journal            (holdfast run --help)
  submit     record a command for a key                   (holdfast submit --help)
  cancel ID  stop a queued or running run                 (holdfast cancel --help)
  retry ID   re-open a failed or cancelled run            (holdfast retry --help)
  outbox     effects owed or failed                       (holdfast outbox --help)
  journal    compact the journal of ended runs            (holdfast journal --help)
  doctor     check a database file for corruption        (holdfast doctor --help)
  lane       lane leases over path trees                  (holdfast lane --help)

Verbs work on a database file (--db PATH, default .holdfast/state.db, never created by a verb
that only reads), or on the admin API of holdfast serve (--url URL or HOLDFAST_URL, with --token
or HOLDFAST_ADMIN_TOKEN). A run id may be given as a unique prefix. Every verb takes --help and
--json (its usage says whether it prints one JSON object or JSON lines); with --json, errors are
one JSON line {"error":{"code","message"}} on stderr.
exit codes: 0 done, 1 failure, 2 usage error, 3 refused or nothing matched.`;

/** Entry point of the `holdfast` command: dispatches to one verb and returns the exit code. */
export async function main(argv: string[], io: CliIo): Promise<number> {
  const [verb, ...rest] = argv;
  try {
    switch (verb) {
      case 'status':
        return await runStatusCommand(rest, io);
      case 'runs':
      case 'run':
        return await runRunsCommand(verb, rest, io);
      case 'submit':
        return await runSubmitCommand(rest, io);
      case 'retry':
      case 'cancel':
        return await runOperatorCommand(verb, rest, io);
      case 'outbox':
        return await runOutboxCommand(rest, io);
      case 'journal':
        return await runJournalCommand(rest, io);
      case 'serve':
        return await runServeCommand(rest, io);
      case 'doctor':
        return await runDoctorCommand(rest, io);
      case 'lane':
        return await runLaneCommand(rest, io);
      case undefined:
      case 'help':
      case '--help':
      case '-h':
        (verb === undefined ? io.stderr : io.stdout)(`${USAGE}\n`);
        return verb === undefined ? EXIT.usage : EXIT.done;
      default:
        io.stderr(`holdfast: unknown verb "${verb}"\n${USAGE}\n`);
        return EXIT.usage;
    }
  } catch (error) {
    return reportFailure(io, verb ?? '', error, rest.includes('--json'));
  }
}
