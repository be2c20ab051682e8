import { resolve } from 'node:path';
import { checkDatabaseIntegrity, type DatabaseCheck } from '../daemon/client/database-file.js';
import { isPostgresUrl } from '../daemon/store-location.js';
import { DEFAULT_DB, EXIT, type CliIo } from './cli-io.js';
import { reportFailure, UsageError } from './cli-errors.js';
import { parseVerbArgs, text } from './client-options.js';
import { printJson, reportUsage } from './client-verb.js';

const USAGE = `usage: holdfast doctor [--db PATH] [--json]

Checks a database file with SQLite's quick_check and integrity_check, reading only (nothing is
created, repaired or written; safe while holdfast serve runs on it), and says whether it is a
holdfast database and its schema version.
--db PATH    the database file (default ${DEFAULT_DB}); doctor works on files only, not over --url
--json       one JSON object: {"path", "ok", "quickCheck", "integrityCheck", "holdfast",
             "schemaVersion", "problem"}
exit codes: 0 ok, 1 corrupt (or no database there), 2 usage error`;

/** `holdfast doctor`: is this database file intact? */
export async function runDoctorCommand(args: string[], io: CliIo): Promise<number> {
  let json = args.includes('--json');
  try {
    const { values, positionals } = parseVerbArgs(args, {}, false);
    json = values.json === true;
    if (values.help === true) {
      io.stdout(`${USAGE}\n`);
      return EXIT.done;
    }
    if (positionals.length > 0) throw new UsageError('doctor takes no positional arguments; pass the file with --db');
    if (values.url !== undefined || values.token !== undefined)
      throw new UsageError('doctor checks a database file: pass --db PATH, not --url');
    const db = text(values, 'db');
    if (db === '') throw new UsageError('--db is empty; pass the path of the state database');
    if (db !== undefined && isPostgresUrl(db))
      throw new UsageError(
        'doctor checks SQLite files; a Postgres database is checked with its own tools (amcheck, pg_dump), see docs/operations.md',
      );
    const check = checkDatabaseIntegrity(resolve(io.cwd, db ?? DEFAULT_DB));
    if (json) printJson(io, check);
    else io.stdout(formatCheck(check));
    return check.ok ? EXIT.done : EXIT.failure;
  } catch (error) {
    if (error instanceof UsageError) return reportUsage(io, 'doctor', USAGE, error, json);
    return reportFailure(io, 'doctor', error, json);
  }
}

function formatCheck(check: DatabaseCheck): string {
  if (check.problem !== null && check.quickCheck.length === 0) return `corrupt: ${check.problem}\n`;
  const identity = check.holdfast
    ? `holdfast schema version ${check.schemaVersion}`
    : 'not a holdfast database (no holdfast application id)';
  if (check.ok) return `ok: ${check.path} (${identity}); quick_check and integrity_check found no problem\n`;
  const problems = [...new Set([...check.quickCheck, ...check.integrityCheck])].filter((line) => line !== 'ok');
  return `corrupt: ${check.path} (${identity})\n${problems.map((p) => `  ${p}`).join('\n')}\n${check.problem ?? ''}\n`;
}
