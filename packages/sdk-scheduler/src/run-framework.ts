import { parseArgs, type ParseArgsConfig } from 'node:util';

/** The flags a framework's program declares, as `node:util` `parseArgs` options (`--help`/`-h` is added). */
export type FrameworkFlags = NonNullable<ParseArgsConfig['options']>;

/** The parsed values of flags `F` (with `help`). */
export type FrameworkFlagValues<F extends FrameworkFlags> = ReturnType<typeof parseArgs<{ options: F & { help: { type: 'boolean'; short: 'h' } } }>>['values'];

/** Reads flag values as numbers, with an error naming the flag. */
export interface FlagNumbers {
  /** The flag's value as a number >= 0, `undefined` when not given; throws `--<flag>: expected a non-negative number, got '<v>'`. */
  number(flag: string, value: string | undefined): number | undefined;
}

/** What `start` returns: something that listens and can be closed. */
export interface RunningFramework {
  address: string;
  close(): Promise<void>;
}

/** The program of a framework, for {@link runFrameworkMain}. */
export interface FrameworkMain<F extends FrameworkFlags, R extends RunningFramework> {
  /** The program's name, the prefix of its errors (`meso-batch`). */
  name: string;
  /** Printed by `--help`, and after `--master is required`. */
  usage: string;
  /** Its flags (`node:util` `parseArgs` options). */
  options: F;
  /** Whether `--master` must be given (exit 2 with the usage without it). Defaults to true. */
  requireMaster?: boolean;
  /** Starts the framework from the parsed flags. */
  start(values: FrameworkFlagValues<F>, flags: FlagNumbers): Promise<R>;
  /** The line printed once it runs. Defaults to `<name> listening on <address>`. */
  banner?(running: R): string;
  /** Exit 1 when `close()` takes longer than this after a signal. Defaults to waiting for it. */
  closeTimeoutMs?: number;
}

/** Where the program reads and writes; defaults to the process's. Tests inject these. */
export interface FrameworkMainIo {
  argv?: string[];
  stdout?: (line: string) => void;
  stderr?: (line: string) => void;
  /** Resolves when the program should stop. Defaults to the first SIGTERM or SIGINT. */
  waitForStop?: () => Promise<void>;
  /** Ends the program with the code. Defaults to `process.exit`. */
  exit?: (code: number) => void;
}

export const flagNumbers: FlagNumbers = {
  number(flag, value) {
    if (value === undefined) return undefined;
    const n = Number(value);
    if (!Number.isFinite(n) || n < 0) throw new Error(`--${flag}: expected a non-negative number, got '${value}'`);
    return n;
  },
};

function waitForSignal(): Promise<void> {
  return new Promise<void>((resolve) => {
    const done = (): void => {
      process.off('SIGTERM', done);
      process.off('SIGINT', done);
      resolve();
    };
    process.once('SIGTERM', done);
    process.once('SIGINT', done);
  });
}

async function closeWithin(running: RunningFramework, ms: number | undefined): Promise<void> {
  if (ms === undefined) return running.close();
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`close did not finish within ${ms} ms`)), ms);
    timer.unref();
  });
  try {
    await Promise.race([running.close(), late]);
  } finally {
    clearTimeout(timer);
  }
}

async function main<F extends FrameworkFlags, R extends RunningFramework>(spec: FrameworkMain<F, R>, io: Required<FrameworkMainIo>): Promise<number> {
  const options: FrameworkFlags = { ...spec.options, help: { type: 'boolean', short: 'h' } };
  const values = parseArgs({ args: io.argv, options }).values as Record<string, string | boolean | undefined>;
  if (values['help']) {
    io.stdout(spec.usage);
    return 0;
  }
  if ((spec.requireMaster ?? true) && !values['master']) {
    io.stderr(`${spec.name}: --master is required\n\n${spec.usage}`);
    return 2;
  }
  const running = await spec.start(values as FrameworkFlagValues<F>, flagNumbers);
  io.stdout(spec.banner ? spec.banner(running) : `${spec.name} listening on ${running.address}`);
  await io.waitForStop();
  await closeWithin(running, spec.closeTimeoutMs);
  return 0;
}

/**
 * Runs a framework's program: parses its flags (`--help` prints the usage, exit 0; without
 * `--master`, exit 2 with the usage), starts it, prints `<name> listening on <address>`, waits
 * for SIGTERM or SIGINT, closes it and exits 0; any error prints `<name>: <message>` and exits 1.
 * Resolves with the exit code after calling `io.exit` with it.
 */
export async function runFrameworkMain<F extends FrameworkFlags, R extends RunningFramework>(spec: FrameworkMain<F, R>, io: FrameworkMainIo = {}): Promise<number> {
  const full: Required<FrameworkMainIo> = {
    argv: io.argv ?? process.argv.slice(2),
    stdout: io.stdout ?? ((line) => console.log(line)),
    stderr: io.stderr ?? ((line) => console.error(line)),
    waitForStop: io.waitForStop ?? waitForSignal,
    exit: io.exit ?? ((code) => process.exit(code)),
  };
  let code: number;
  try {
    code = await main(spec, full);
  } catch (e) {
    full.stderr(`${spec.name}: ${(e as Error).message}`);
    code = 1;
  }
  full.exit(code);
  return code;
}
