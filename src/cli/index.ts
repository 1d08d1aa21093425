/**
 * cli: the commander program (`certgate serve`, `certgate accounts ...`), one file per command.
 * An adapter over main/: it never wires stores or servers itself.
 */
export { runCli } from './main.js';
export { createProgram } from './program.js';
export { processIo } from './cli-io.js';
export type { CliIo } from './cli-io.js';
export { READY_PREFIX } from './commands/serve.js';
