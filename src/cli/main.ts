import { HoldfastError } from '../errors.js';
import { EXIT, type CliIo } from './cli-io.js';
import { runLaneCommand } from './lane-command.js';
import { runJournalCommand } from './journal-command.js';
import { runOperatorCommand } from './operator-command.js';
import { runOutboxCommand } from './outbox-command.js';
import { runRunsCommand } from './runs-command.js';

const USAGE = `usage: holdfast <verb> [options]

verbs:
  runs      list runs in a holdfast database        (holdfast runs --help)
  run ID    show one run and its step journal
  retry ID  re-open a failed or cancelled run          (holdfast retry --help)
  cancel ID stop a queued or running run               (holdfast cancel --help)
  outbox    effects owed or failed                     (holdfast outbox --help)
  journal   compact the journal of ended runs          (holdfast journal --help)
  lane      lane leases over path trees              (holdfast lane --help)

every verb takes --db PATH (default .holdfast/state.db) and --json.
exit codes: 0 done, 1 failure, 2 usage error, 3 refused or nothing matched.`;

/** Entry point of the `holdfast` command: dispatches to one verb and returns the exit code. */
export async function main(argv: string[], io: CliIo): Promise<number> {
  const [verb, ...rest] = argv;
  try {
    switch (verb) {
      case 'lane':
        return await runLaneCommand(rest, io);
      case 'runs':
      case 'run':
        return await runRunsCommand(verb, rest, io);
      case 'retry':
      case 'cancel':
        return await runOperatorCommand(verb, rest, io);
      case 'outbox':
        return await runOutboxCommand(rest, io);
      case 'journal':
        return await runJournalCommand(rest, io);
      case undefined:
      case 'help':
      case '--help':
      case '-h':
        io.stdout(`${USAGE}\n`);
        return verb === undefined ? EXIT.usage : EXIT.done;
      default:
        io.stderr(`holdfast: unknown verb "${verb}"\n${USAGE}\n`);
        return EXIT.usage;
    }
  } catch (error) {
    const message = error instanceof HoldfastError ? `${error.code}: ${error.message}` : String(error);
    io.stderr(`holdfast ${verb}: ${message}\n`);
    return EXIT.failure;
  }
}
