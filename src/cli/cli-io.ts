/** What a command may touch of the process: output streams, environment, working directory, signals. */
export interface CliIo {
  stdout(text: string): void;
  stderr(text: string): void;
  readonly env: Readonly<Record<string, string | undefined>>;
  readonly cwd: string;
  /** Resolves with the signal name on the first SIGINT or SIGTERM after the call. */
  waitForStopSignal(): Promise<string>;
}

/** The real process. A closed pipe (`certgate accounts list | head -1`) ends output quietly instead of crashing. */
export function processIo(): CliIo {
  for (const stream of [process.stdout, process.stderr]) {
    stream.on('error', (e: NodeJS.ErrnoException) => {
      if (e.code !== 'EPIPE') throw e;
    });
  }
  return {
    stdout: (t) => void process.stdout.write(t),
    stderr: (t) => void process.stderr.write(t),
    env: process.env,
    cwd: process.cwd(),
    waitForStopSignal: () =>
      new Promise((resolve) => {
        const on = (signal: NodeJS.Signals): void => {
          process.off('SIGINT', on);
          process.off('SIGTERM', on);
          resolve(signal);
        };
        process.on('SIGINT', on);
        process.on('SIGTERM', on);
      }),
  };
}
