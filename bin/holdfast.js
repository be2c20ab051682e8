#!/usr/bin/env node
// The holdfast command line. Runs the compiled CLI (built by `npm run build`, and on install).
import { main } from '../dist/src/cli/main.js';

process.exitCode = await main(process.argv.slice(2), {
  stdout: (s) => process.stdout.write(s),
  stderr: (s) => process.stderr.write(s),
  cwd: process.cwd(),
});
