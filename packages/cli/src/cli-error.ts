/** A failure the CLI reports as one line on stderr, exiting with `exitCode`. */
export class CliError extends Error {
  override readonly name = 'CliError';

  constructor(
    message: string,
    /** 2 for usage errors (bad flags), 1 for everything else. */
    readonly exitCode = 1,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

/** A usage error: bad or missing flags. Exits 2, like most Unix tools. */
export function usageError(message: string): CliError {
  return new CliError(`${message} (see --help)`, 2);
}
