// One of the two files of this package that import @grpc/grpc-js: the executor
// transport over gRPC. Raw gRPC errors stop here and become ExecutorErrors.
import { credentials, makeGenericClientConstructor, status, type Client, type ClientReadableStream, type ServiceError } from '@grpc/grpc-js';
import {
  ExecutorAgentService,
  fromServiceError,
  type ExecutorCallResponse,
  type ExecutorEvent,
  type ExecutorMessageRequest,
  type ExecutorSubscribeRequest,
  type ExecutorUpdateRequest,
} from '@meso/proto';
import { ExecutorError } from './errors.js';
import type { ExecutorTransport, Subscription, SubscriptionObserver } from './transport.js';

type UnaryCall<Req> = (req: Req, options: { deadline: Date }, cb: (err: ServiceError | null, res?: ExecutorCallResponse) => void) => void;

interface ExecutorAgentClient extends Client {
  subscribe(req: ExecutorSubscribeRequest): ClientReadableStream<ExecutorEvent>;
  update: UnaryCall<ExecutorUpdateRequest>;
  message: UnaryCall<ExecutorMessageRequest>;
}

const ClientConstructor = makeGenericClientConstructor(ExecutorAgentService, 'meso.v1.ExecutorAgent') as unknown as new (
  address: string,
  creds: ReturnType<typeof credentials.createInsecure>,
  options?: Record<string, unknown>,
) => ExecutorAgentClient;

/** Maps a failed gRPC call to the SDK's error (the raw error is the `cause`). */
export function executorErrorOf(err: ServiceError, what: string): ExecutorError {
  const details = fromServiceError(err);
  if (err.code === status.PERMISSION_DENIED || err.code === status.UNAUTHENTICATED || details.code === 'PERMISSION_DENIED') {
    return new ExecutorError('UNAUTHORIZED', `${what}: the agent rejected the executor token (${details.message})`, { cause: err });
  }
  if (details.code === 'UNKNOWN_EXECUTOR') {
    return new ExecutorError('UNKNOWN_EXECUTOR', `${what}: the agent does not know this executor (${details.message})`, { cause: err });
  }
  if (details.code === 'UNAVAILABLE') {
    return new ExecutorError('DISCONNECTED', `${what}: the agent is unreachable (${details.message})`, { cause: err });
  }
  return new ExecutorError('REJECTED', `${what}: ${details.message}`, { cause: err });
}

/** The executor transport over gRPC to the agent at `endpoint` (host:port, plaintext on loopback). */
export class GrpcExecutorTransport implements ExecutorTransport {
  private readonly client: ExecutorAgentClient;

  constructor(
    endpoint: string,
    private readonly callTimeoutMs = 10_000,
  ) {
    // No gRPC keepalive: on a busy machine a ping unanswered for a few seconds (the agent or
    // this process descheduled; Node runs the ping's timer before it reads the pong) dropped
    // healthy streams, and an executor of a framework that does not checkpoint ends on a drop,
    // failing its task. A dead agent closes the socket; a hung one is caught by the SDK's
    // heartbeat timeout (heartbeatTimeoutMs), which the agent's heartbeats keep fed.
    this.client = new ClientConstructor(endpoint, credentials.createInsecure(), {
      // Reconnection is the SDK's job, with its own backoff.
      'grpc.initial_reconnect_backoff_ms': 200,
      'grpc.max_reconnect_backoff_ms': 1_000,
    });
  }

  subscribe(request: ExecutorSubscribeRequest, observer: SubscriptionObserver): Subscription {
    const call = this.client.subscribe(request);
    let ended = false;
    const end = (error?: ExecutorError): void => {
      if (ended) return;
      ended = true;
      observer.onEnd(error);
    };
    call.on('data', (event: ExecutorEvent) => {
      if (!ended) observer.onEvent(event);
    });
    call.on('error', (err: ServiceError) => end(executorErrorOf(err, 'subscription')));
    call.on('end', () => end());
    return {
      cancel: () => {
        ended = true;
        call.cancel();
      },
    };
  }

  update(request: ExecutorUpdateRequest): Promise<void> {
    return this.unary('update', (cb) => this.client.update(request, { deadline: this.deadline() }, cb));
  }

  message(request: ExecutorMessageRequest): Promise<void> {
    return this.unary('message', (cb) => this.client.message(request, { deadline: this.deadline() }, cb));
  }

  close(): void {
    this.client.close();
  }

  private deadline(): Date {
    return new Date(Date.now() + this.callTimeoutMs);
  }

  private unary(what: string, call: (cb: (err: ServiceError | null) => void) => void): Promise<void> {
    return new Promise((resolve, reject) => {
      try {
        call((err) => (err ? reject(executorErrorOf(err, what)) : resolve()));
      } catch (e) {
        reject(new ExecutorError('DISCONNECTED', `${what}: ${(e as Error).message}`, { cause: e }));
      }
    });
  }
}
