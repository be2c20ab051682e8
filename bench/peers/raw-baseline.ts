// The baseline every figure is divided by: single-row INSERT transactions (each statement its own
// transaction, committed with the server's synchronous_commit, like every system measured here),
// a prepared statement, a 256-byte text column, on the same database in the same run.
import { performance } from 'node:perf_hooks';
import pg from 'pg';
import { RESULT_BYTES } from './unit.js';

export interface RawResult {
  connections: number;
  txns: number;
  ms: number;
  txnPerSec: number;
}

const TABLE =
  'CREATE TABLE IF NOT EXISTS raw_txn (id bigserial PRIMARY KEY, run text NOT NULL, seq int NOT NULL, result text NOT NULL, at timestamptz NOT NULL DEFAULT now())';
const INSERT = { name: 'raw-insert', text: 'INSERT INTO raw_txn (run, seq, result) VALUES ($1, $2, $3)' };

/** Single-row insert transactions for `seconds`, on `connections` connections each inserting in a loop. */
export async function measureRaw(connectionString: string, seconds: number, connections = 1): Promise<RawResult> {
  const clients = await Promise.all(
    Array.from({ length: connections }, async () => {
      const client = new pg.Client({ connectionString, application_name: 'holdfast bench raw baseline' });
      await client.connect();
      return client;
    }),
  );
  try {
    await clients[0]!.query(TABLE);
    const result = 'r'.repeat(RESULT_BYTES);
    let txns = 0;
    const start = performance.now();
    const end = start + seconds * 1000;
    await Promise.all(
      clients.map(async (client, c) => {
        for (let seq = 0; performance.now() < end; seq++) {
          await client.query({ ...INSERT, values: [`raw-${c}`, seq, result] });
          txns++;
        }
      }),
    );
    const ms = performance.now() - start;
    return { connections, txns, ms, txnPerSec: (txns / ms) * 1000 };
  } finally {
    await Promise.all(clients.map((c) => c.end()));
  }
}

/** Two measurements as one: total transactions over total time. */
export function combineRaw(a: RawResult, b: RawResult): RawResult {
  const txns = a.txns + b.txns;
  const ms = a.ms + b.ms;
  return { connections: a.connections, txns, ms, txnPerSec: (txns / ms) * 1000 };
}

/** The server's version and the settings that decide what a commit costs. */
export async function durabilitySettings(connectionString: string): Promise<Record<string, string>> {
  const client = new pg.Client({ connectionString });
  await client.connect();
  try {
    const names = ['server_version', 'synchronous_commit', 'fsync', 'wal_sync_method', 'full_page_writes', 'commit_delay', 'wal_level'];
    const settings: Record<string, string> = {};
    for (const name of names) settings[name] = String((await client.query(`SHOW ${name}`)).rows[0][name]);
    return settings;
  } finally {
    await client.end();
  }
}
