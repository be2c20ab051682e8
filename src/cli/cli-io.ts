/** Where a CLI verb writes, and where it runs. Verbs never touch process.* directly. */
export interface CliIo {
  readonly stdout: (text: string) => void;
  readonly stderr: (text: string) => void;
  readonly cwd: string;
  /**
   * The environment the verbs read (`HOLDFAST_URL`, `HOLDFAST_ADMIN_TOKEN`); the binary passes
   * the process's. Absent: an empty environment.
   */
  readonly env?: Readonly<Record<string, string | undefined>>;
  /** Whether stderr is a terminal (`holdfast serve` then logs in a readable form, not JSON lines). */
  readonly stderrIsTerminal?: boolean;
}

/** Exit codes shared by every verb. */
export const EXIT = { done: 0, failure: 1, usage: 2, refused: 3 } as const;

/** The project's SQLite file when `--db` is not given. */
export const DEFAULT_DB = '.holdfast/state.db';
