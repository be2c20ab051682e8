#!/usr/bin/env node
// The holdfast command line. Runs the compiled CLI (built by `npm run build`, and on install).
//
// A closed stdout (`holdfast runs | head -1`) is not a failure: once a write meets EPIPE nothing
// more is written, the verb finishes quietly and the exit code is its own.
import { main } from '../dist/src/cli/main.js';

let stdoutOpen = true;
process.stdout.on('error', (error) => {
  if (error.code === 'EPIPE' || error.code === 'ERR_STREAM_DESTROYED') {
    stdoutOpen = false;
    return;
  }
  throw error;
});

process.exitCode = await main(process.argv.slice(2), {
  stdout: (s) => {
    if (stdoutOpen) process.stdout.write(s);
  },
  stderr: (s) => process.stderr.write(s),
  cwd: process.cwd(),
  env: process.env,
  stderrIsTerminal: process.stderr.isTTY === true,
});
