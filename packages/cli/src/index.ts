/** @meso/cli — the `meso` command line. Its programmatic entry is `runCli(argv)`. */
export { runCli } from './run-cli.js';
export { CliError } from './cli-error.js';
