/** @meso/cli — the `meso` command line. Its programmatic entry is `runCli(argv)`. */
export { runCli } from './run-cli.js';
export { CliError } from './cli-error.js';
// Simulated agents (`meso sim-agents`), for measuring a master at 10k+ agents; used by tools/bench.
export { startSimAgents, SIM_AGENTS_DEFAULTS, type SimAgents, type SimAgentsOptions } from './sim/sim-agents.js';
