#!/usr/bin/env node
import { main } from '../dist/cli/main.js';

// A reader that stops early (`| head`) closes the pipe: that is the end of the job, not a crash.
process.stdout.on('error', (error) => {
  if (error.code === 'EPIPE') process.exit(0);
  throw error;
});

process.exitCode = await main(process.argv.slice(2), {
  stdin: process.stdin,
  stdout: process.stdout,
  stderr: process.stderr,
});
