import { readFile } from 'node:fs/promises';
import { CommanderError } from 'commander';
import { processIo } from './cli-io.js';
import type { CliIo } from './cli-io.js';
import { createProgram } from './program.js';
import { userErrorMessage } from './user-error.js';

async function packageVersion(): Promise<string> {
  try {
    const pkg = JSON.parse(await readFile(new URL('../../package.json', import.meta.url), 'utf8')) as { version?: unknown };
    return typeof pkg.version === 'string' ? pkg.version : '0.0.0';
  } catch {
    return '0.0.0';
  }
}

/** Runs `certgate <args>` and resolves with the exit code; user errors become one line on stderr. */
export async function runCli(args: readonly string[], io: CliIo = processIo()): Promise<number> {
  const program = createProgram(io, await packageVersion());
  try {
    await program.parseAsync([...args], { from: 'user' });
    return 0;
  } catch (e) {
    if (e instanceof CommanderError) return e.exitCode; // commander already printed its message (or the help)
    const message = userErrorMessage(e);
    if (message !== undefined) {
      io.stderr(`certgate: ${message}\n`);
      return 1;
    }
    io.stderr(`certgate: unexpected error: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}\n`);
    return 1;
  }
}
