import { Command } from 'commander';
import type { CliIo } from './cli-io.js';
import { accountsCommand } from './commands/accounts.js';
import { serveCommand } from './commands/serve.js';
import { whyCommand } from './commands/why.js';

export function createProgram(io: CliIo, version: string): Command {
  const program = new Command('certgate')
    .description('self-hosted IoT device gateway that speaks AWS IoT Core: its control-plane API and MQTT over mutual TLS')
    .version(version)
    .showHelpAfterError()
    .configureOutput({ writeOut: (t) => io.stdout(t), writeErr: (t) => io.stderr(t) })
    .addCommand(serveCommand(io))
    .addCommand(accountsCommand(io))
    .addCommand(whyCommand(io));
  // Propagate output settings and exitOverride to every subcommand.
  const configure = (cmd: Command): void => {
    cmd.exitOverride().configureOutput({ writeOut: (t) => io.stdout(t), writeErr: (t) => io.stderr(t) });
    cmd.commands.forEach(configure);
  };
  configure(program);
  return program;
}
