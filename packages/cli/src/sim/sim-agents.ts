// The only file of the CLI that imports @grpc/grpc-js: many simulated agents' AgentLink
// streams over a few shared HTTP/2 connections.
import { credentials, makeGenericClientConstructor, type Client, type ClientDuplexStream } from '@grpc/grpc-js';
import { AgentLinkService, parseResources, resourcesToWire, type AgentMessage, type MasterMessage } from '@meso/proto';
import { SimAgent, type SimAgentContext } from './sim-agent.js';

/** How to run a fleet of simulated agents. */
export interface SimAgentsOptions {
  /** The master's `host:port`. Required. */
  master: string;
  /** How many agents. Required. */
  count: number;
  /** What each agent registers with (`--resources` syntax). Defaults to 'cpus:8;mem:16384'. */
  resources?: string;
  /** Seconds a task runs before TASK_FINISHED. Defaults to undefined: until killed. */
  taskSeconds?: number;
  /** Agents per HTTP/2 connection. Defaults to 250. */
  agentsPerChannel?: number;
  /** Agents registering at once (the rest wait for a slot). Defaults to 500. */
  registrationWindow?: number;
  /** Delay before a lost stream is opened again. Defaults to 250 ms. */
  reconnectMs?: number;
}

/** A running fleet. */
export interface SimAgents {
  readonly agents: readonly SimAgent[];
  /** Agents registered right now. */
  registeredCount(): number;
  /** Tasks that reached TASK_RUNNING on the fleet since it started. */
  readonly launched: { count: number };
  /** Live tasks on the fleet right now. */
  taskCount(): number;
  /** Resolves once every agent is registered (again), rejects after `timeoutMs`. */
  waitRegistered(timeoutMs: number): Promise<void>;
  /** Ends every stream and connection. */
  close(): void;
}

export const SIM_AGENTS_DEFAULTS = {
  resources: 'cpus:8;mem:16384',
  agentsPerChannel: 250,
  registrationWindow: 500,
  reconnectMs: 250,
} as const;

interface AgentLinkClient extends Client {
  connect(): ClientDuplexStream<AgentMessage, MasterMessage>;
}

const ClientConstructor = makeGenericClientConstructor(AgentLinkService, 'meso.v1.AgentLink') as unknown as new (
  address: string,
  creds: ReturnType<typeof credentials.createInsecure>,
  options?: Record<string, unknown>,
) => AgentLinkClient;

function invalid(field: string, message: string): Error {
  return Object.assign(new Error(`${field}: ${message}`), { code: 'INVALID_OPTIONS', field });
}

/**
 * Starts `count` simulated agents against a master over the real AgentLink protocol, from
 * this process: each agent has its own bidirectional stream; streams share one HTTP/2
 * connection per `agentsPerChannel` agents. A stream that breaks (e.g. the master
 * restarted) is opened again and the agent re-registers with its id and tasks.
 */
export function startSimAgents(options: SimAgentsOptions): SimAgents {
  if (!Number.isInteger(options.count) || options.count < 1) throw invalid('count', `must be a whole number >= 1, got ${String(options.count)}`);
  if (options.taskSeconds !== undefined && !(options.taskSeconds >= 0)) throw invalid('taskSeconds', `must be >= 0, got ${String(options.taskSeconds)}`);
  const resources = resourcesToWire(parseResources(options.resources ?? SIM_AGENTS_DEFAULTS.resources, 'resources'));
  const perChannel = options.agentsPerChannel ?? SIM_AGENTS_DEFAULTS.agentsPerChannel;
  const window = options.registrationWindow ?? SIM_AGENTS_DEFAULTS.registrationWindow;
  const reconnectMs = options.reconnectMs ?? SIM_AGENTS_DEFAULTS.reconnectMs;
  const clients: AgentLinkClient[] = [];
  const streams = new Map<SimAgent, ClientDuplexStream<AgentMessage, MasterMessage>>();
  const timers = new Set<NodeJS.Timeout>();
  const launched = { count: 0 };
  let registered = 0;
  let closed = false;
  const waiting: SimAgent[] = [];
  let connecting = 0;
  const waiters: (() => void)[] = [];

  const later = (ms: number, fn: () => void): (() => void) => {
    const t = setTimeout(() => {
      timers.delete(t);
      fn();
    }, ms);
    timers.add(t);
    return () => {
      clearTimeout(t);
      timers.delete(t);
    };
  };

  const clientFor = (index: number): AgentLinkClient => {
    const c = Math.floor(index / perChannel);
    let client = clients[c];
    if (!client) {
      // A local subchannel pool per client: one HTTP/2 connection per `perChannel` agents.
      client = new ClientConstructor(options.master, credentials.createInsecure(), {
        'grpc.use_local_subchannel_pool': 1,
        'grpc.initial_reconnect_backoff_ms': 100,
        'grpc.max_reconnect_backoff_ms': 1000,
        'grpc.max_receive_message_length': 64 * 1024 * 1024,
      });
      clients[c] = client;
    }
    return client;
  };

  // What each agent sends while handling one message (or one timer) goes out as one message
  // (a `batch` when there are several), as a real agent batching its status updates would.
  const outbox = new Map<SimAgent, AgentMessage[]>();
  const flushOutbox = (): void => {
    for (const [agent, messages] of outbox) {
      const stream = streams.get(agent);
      if (stream) stream.write(messages.length === 1 ? (messages[0] as AgentMessage) : { message: { $case: 'batch', value: { messages } } });
    }
    outbox.clear();
  };
  const agents: SimAgent[] = [];
  const makeContext = (index: number): SimAgentContext => ({
    resources,
    taskMs: options.taskSeconds === undefined ? undefined : options.taskSeconds * 1000,
    send: (message) => {
      const agent = agents[index];
      if (!agent || !streams.has(agent)) return;
      const queued = outbox.get(agent);
      if (queued) queued.push(message);
      else {
        if (outbox.size === 0) queueMicrotask(flushOutbox);
        outbox.set(agent, [message]);
      }
    },
    after: later,
    onRegistered: () => {
      registered++;
      slotFreed();
      if (registered === agents.length) for (const w of waiters.splice(0)) w();
    },
    onLaunched: () => {
      launched.count++;
    },
  });

  // A bounded number of registrations in flight, so 10k agents do not all knock at once.
  const slotFreed = (): void => {
    connecting = Math.max(0, connecting - 1);
    pump();
  };
  const pump = (): void => {
    while (!closed && connecting < window && waiting.length > 0) {
      connecting++;
      open(waiting.shift() as SimAgent);
    }
  };
  const lost = (agent: SimAgent, wasConnecting: boolean): void => {
    if (agent.registered) registered--;
    agent.disconnected();
    if (wasConnecting) slotFreed();
    if (closed) return;
    later(reconnectMs * (0.5 + Math.random()), () => {
      waiting.push(agent);
      pump();
    });
  };
  const open = (agent: SimAgent): void => {
    const stream = clientFor(agent.index).connect();
    streams.set(agent, stream);
    let ended = false;
    const end = (): void => {
      if (ended) return;
      ended = true;
      if (streams.get(agent) === stream) streams.delete(agent);
      lost(agent, !agent.registered);
    };
    stream.on('data', (m: MasterMessage) => {
      if (!ended) agent.onMessage(m);
    });
    stream.on('error', end);
    stream.on('end', end);
    stream.write({ message: { $case: 'register', value: agent.registration() } });
  };

  for (let i = 0; i < options.count; i++) agents.push(new SimAgent(i, makeContext(i)));
  waiting.push(...agents);
  pump();

  return {
    agents,
    launched,
    registeredCount: () => registered,
    taskCount: () => agents.reduce((n, a) => n + a.taskCount, 0),
    waitRegistered(timeoutMs) {
      if (registered === agents.length) return Promise.resolve();
      return new Promise((resolve, reject) => {
        const cancel = later(timeoutMs, () => reject(new Error(`only ${registered} of ${agents.length} simulated agents registered within ${timeoutMs} ms`)));
        waiters.push(() => {
          cancel();
          resolve();
        });
      });
    },
    close() {
      closed = true;
      outbox.clear();
      for (const t of timers) clearTimeout(t);
      timers.clear();
      for (const s of streams.values()) {
        try {
          s.cancel();
        } catch {
          /* already closed */
        }
      }
      streams.clear();
      for (const c of clients) c.close();
    },
  };
}
