// The agent's command executor program (dist/command-executor/main.js): started by the
// agent with the executor environment, it connects back over the executor API and runs
// the task's command. Its own log lines go to stderr (the sandbox's `stderr`).
import { Executor, type ExecutorExit } from '@meso/sdk-executor';
import { createLogger } from '@meso/proto';
import { CommandExecutor } from './command-executor.js';

const logger = createLogger('command-executor');
let ready: (e: Executor) => void;
const connected = new Promise<Executor>((resolve) => (ready = resolve));
let ending = false;

async function finish(): Promise<void> {
  if (ending) return;
  ending = true;
  const executor = await connected;
  // close() waits (bounded) for the agent to acknowledge the terminal update.
  await executor.close();
}

const handlers = new CommandExecutor({
  env: process.env,
  isRoot: process.getuid?.() === 0,
  onDone: () => void finish(),
  log: (message) => logger.info(message),
});

try {
  const executor = await Executor.connect({ handlers, logger });
  ready!(executor);
  const exit: ExecutorExit = await executor.done();
  logger.info('command executor exiting', { reason: exit.reason });
  process.exit(exit.reason === 'closed' || exit.reason === 'shutdown' ? 0 : 1);
} catch (e) {
  logger.error(`command executor failed: ${(e as Error).message}`);
  process.exit(1);
}
