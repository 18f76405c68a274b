/**
 * Runs `stop` once on SIGINT or SIGTERM (Ctrl-C), then exits 0. A second signal while
 * stopping exits at once with 130, so a stuck shutdown never traps the user.
 */
export function stopOnSignals(stop: () => Promise<void>, log: (line: string) => void): Promise<void> {
  return new Promise((resolve) => {
    let stopping = false;
    const onSignal = (signal: NodeJS.Signals): void => {
      if (stopping) {
        log(`${signal} again: exiting now`);
        process.exit(130);
      }
      stopping = true;
      log(`${signal}: stopping`);
      stop()
        .catch((e: unknown) => log(`error while stopping: ${(e as Error).message}`))
        .finally(() => {
          process.off('SIGINT', onSignal);
          process.off('SIGTERM', onSignal);
          resolve();
        });
    };
    process.on('SIGINT', onSignal);
    process.on('SIGTERM', onSignal);
  });
}
