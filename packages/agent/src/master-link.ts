// The other file of the agent that imports @grpc/grpc-js: the agent's connection to the
// master (AgentLink.Connect, one bidirectional stream per connection).
import { credentials, makeGenericClientConstructor, type Client, type ClientDuplexStream, type ServiceError } from '@grpc/grpc-js';
import { AgentLinkService, fromServiceError, type AgentMessage, type MasterMessage } from '@meso/proto';

/** Callbacks of one connection to the master. */
export interface MasterObserver {
  onMessage(message: MasterMessage): void;
  /** The connection ended (with a reason unless it ended cleanly). Called at most once. */
  onEnd(reason?: string): void;
}

/** One open connection; `close()` ends it without calling `onEnd`. */
export interface MasterConnection {
  send(message: AgentMessage): void;
  close(): void;
}

/** Opens connections to the master. Reconnection and registration are the caller's logic. */
export interface MasterLink {
  open(observer: MasterObserver): MasterConnection;
  close(): void;
}

interface AgentLinkClient extends Client {
  connect(): ClientDuplexStream<AgentMessage, MasterMessage>;
}

const ClientConstructor = makeGenericClientConstructor(AgentLinkService, 'meso.v1.AgentLink') as unknown as new (
  address: string,
  creds: ReturnType<typeof credentials.createInsecure>,
  options?: Record<string, unknown>,
) => AgentLinkClient;

/** The master link over gRPC (plaintext). */
export function grpcMasterLink(master: string): MasterLink {
  const client = new ClientConstructor(master, credentials.createInsecure(), {
    'grpc.keepalive_time_ms': 10_000,
    'grpc.keepalive_timeout_ms': 5_000,
    'grpc.keepalive_permit_without_calls': 1,
    'grpc.initial_reconnect_backoff_ms': 250,
    'grpc.max_reconnect_backoff_ms': 2_000,
  });
  return {
    open(observer) {
      const call = client.connect();
      let ended = false;
      const end = (reason?: string): void => {
        if (ended) return;
        ended = true;
        observer.onEnd(reason);
      };
      call.on('data', (m: MasterMessage) => {
        if (!ended) observer.onMessage(m);
      });
      call.on('error', (e: ServiceError) => end(fromServiceError(e).message));
      call.on('end', () => end('the master ended the stream'));
      return {
        send(message) {
          if (ended) return;
          try {
            call.write(message);
          } catch (e) {
            end((e as Error).message);
          }
        },
        close() {
          ended = true;
          try {
            call.cancel();
          } catch {
            // already closed
          }
        },
      };
    },
    close() {
      client.close();
    },
  };
}
