import type { ServerDuplexStream } from '@grpc/grpc-js';
import type { AgentLinkServer, AgentMessage, MasterMessage } from '@meso/proto';
import { agentLinkClosed } from '../agents/agent-health.js';
import { handleAgentMessage } from '../agents/agent-messages.js';
import { registerAgent } from '../agents/agent-registration.js';
import { isMasterError, protocolCodeOf } from '../errors.js';
import type { AgentLink } from '../links.js';
import type { Master } from '../master.js';
import { kindOf, later } from './fault-injection.js';

function linkOf(master: Master, call: ServerDuplexStream<AgentMessage, MasterMessage>): AgentLink {
  const write = (message: MasterMessage): void => {
    if (!call.writableEnded && !call.cancelled) call.write(message);
  };
  return {
    send: (message) => master.faults.route('to_agent', kindOf(message.message?.$case ?? ''), () => write(message), later(master)),
    close: () => {
      if (!call.writableEnded) call.end();
    },
  };
}

/**
 * The AgentLink service: the first message must be `register` (answered `registered` or
 * `refused`, after which the stream ends); then messages go to the master's agent handlers.
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
      call.on('data', (message: AgentMessage) => master.faults.route('from_agent', kindOf(message.message?.$case ?? ''), () => received(message), later(master)));
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
