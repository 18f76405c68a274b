import type { ServerDuplexStream } from '@grpc/grpc-js';
import type { AgentLinkServer, AgentMessage, MasterMessage } from '@meso/proto';
import { agentLinkClosed } from '../agents/agent-health.js';
import { handleAgentMessage } from '../agents/agent-messages.js';
import { registerAgent } from '../agents/agent-registration.js';
import { isMasterError, protocolCodeOf } from '../errors.js';
import type { AgentLink } from '../links.js';
import type { Master } from '../master.js';
import { deliver } from './faulty-delivery.js';
import { TurnBatcher } from './turn-batcher.js';

/** An agent's link, and whether it may batch (set from the agent's `register`). */
interface BatchingLink extends AgentLink {
  acceptBatches(yes: boolean): void;
}

/**
 * The link of one stream. To an agent that accepts batches, what the master sends it while
 * handling one message or call (e.g. the RunTasks of one ACCEPT, the acknowledgements of one
 * call) goes out as one MasterMessage `batch`, in order (see TurnBatcher).
 */
function linkOf(master: Master, call: ServerDuplexStream<AgentMessage, MasterMessage>): BatchingLink {
  const out = new TurnBatcher<MasterMessage>(
    (message) => {
      if (!call.writableEnded && !call.cancelled) call.write(message);
    },
    (messages) => ({ message: { $case: 'batch', value: { messages } } }),
  );
  return {
    send: (message) => deliver(master, 'to_agent', message.message?.$case, () => out.send(message)),
    close: () => {
      out.flush();
      if (!call.writableEnded) call.end();
    },
    acceptBatches: (yes) => out.enable(yes),
  };
}

/** The messages of one AgentMessage: a batch's, in order (a batch nested in it is dropped), or itself. */
function unbatched(master: Master, message: AgentMessage): AgentMessage[] {
  if (message.message?.$case !== 'batch') return [message];
  const inner = message.message.value.messages;
  const flat = inner.filter((m) => m.message?.$case !== 'batch');
  if (flat.length < inner.length) master.logger.warn('nested agent message batch dropped', { dropped: inner.length - flat.length });
  return flat;
}

/**
 * The AgentLink service: the first message must be `register` (answered `registered` or
 * `refused`, after which the stream ends); then messages go to the master's agent handlers.
 * A `batch` from the agent is handled as its messages one by one (fault injection included).
 */
export function agentLinkService(master: Master): AgentLinkServer {
  return {
    connect: (call) => {
      const link = linkOf(master, call);
      let agentId: string | undefined;
      const refuse = (code: string, message: string, field: string): void => {
        master.metrics.countError(code);
        link.send({ message: { $case: 'refused', value: { code, message, field } } });
        link.close();
      };
      const received = (message: AgentMessage): void => {
        try {
          if (agentId !== undefined) {
            handleAgentMessage(master, agentId, link, message);
            return;
          }
          if (message.message?.$case !== 'register') {
            refuse('INVALID_ARGUMENT', `the first message must be register, got ${message.message?.$case ?? 'nothing'}`, 'message');
            return;
          }
          link.acceptBatches(message.message.value.acceptsBatches === true);
          agentId = registerAgent(master, message.message.value, link);
        } catch (e) {
          if (agentId === undefined) {
            if (isMasterError(e)) refuse(protocolCodeOf(e), e.reason, e.field ?? '');
            else {
              master.logger.error('agent registration failed unexpectedly', { error: e, stack: (e as Error)?.stack });
              refuse('INTERNAL', 'internal error during registration', '');
            }
          } else {
            master.logger.error('agent message failed unexpectedly', { agentId, error: e, stack: (e as Error)?.stack });
          }
        }
      };
      call.on('data', (message: AgentMessage) => {
        for (const m of unbatched(master, message)) deliver(master, 'from_agent', m.message?.$case, () => received(m));
      });
      const closed = (): void => {
        const id = agentId;
        if (id !== undefined) master.safely('closing an agent link', () => agentLinkClosed(master, id, link));
      };
      call.on('end', () => {
        closed();
        link.close();
      });
      call.on('cancelled', closed);
      call.on('close', closed);
      call.on('error', closed);
    },
  };
}
