// The only file of the SDK that imports @grpc/grpc-js: the Scheduler service of meso.v1 over
// gRPC, with the master's refusals mapped to SchedulerError here, once.
import { Client, credentials, type ChannelOptions, type ServiceError } from '@grpc/grpc-js';
import { fromServiceError, SchedulerService, type Event, type SubscribeRequest } from '@meso/proto';
import { errorFromDetails } from './errors.js';
import type { EventSink, EventStream, SchedulerCallName, SchedulerCallRequests, SchedulerTransport } from './transport.js';

/** Options of {@link GrpcSchedulerTransport}. */
export interface GrpcTransportOptions {
  /** Extra grpc-js channel options. Defaults to none (keepalive is left to heartbeats). */
  channelOptions?: ChannelOptions;
}

type UnaryDefinition<K extends SchedulerCallName> = {
  path: string;
  requestSerialize: (value: SchedulerCallRequests[K]) => Buffer;
  responseDeserialize: (value: Buffer) => unknown;
};

/** @internal A failed gRPC call as a SchedulerError (code and field from the trailers). */
export function errorFromGrpc(err: unknown) {
  return errorFromDetails(fromServiceError(err as Partial<ServiceError>), err);
}

/**
 * The gRPC transport to a master's Scheduler service (plaintext HTTP/2, as Meso's master serves
 * on loopback by default). `Scheduler.connect` creates one from `master` unless given another.
 */
export class GrpcSchedulerTransport implements SchedulerTransport {
  private readonly client: Client;
  private readonly streams = new Set<EventStream>();
  private closed = false;

  /** `address` is `host:port` of the master, e.g. `127.0.0.1:5050`. */
  constructor(
    readonly address: string,
    options: GrpcTransportOptions = {},
  ) {
    this.client = new Client(address, credentials.createInsecure(), options.channelOptions ?? {});
  }

  subscribe(request: SubscribeRequest, sink: EventSink): EventStream {
    const def = SchedulerService.subscribe;
    let done = false;
    const finish = (error?: ReturnType<typeof errorFromGrpc>): void => {
      if (done) return;
      done = true;
      this.streams.delete(handle);
      sink.end(error);
    };
    const call = this.client.makeServerStreamRequest<SubscribeRequest, Event>(
      def.path,
      def.requestSerialize,
      def.responseDeserialize,
      request,
    );
    const handle: EventStream = {
      cancel: () => {
        if (done) return;
        done = true;
        this.streams.delete(handle);
        call.cancel();
      },
    };
    this.streams.add(handle);
    call.on('data', (event: Event) => {
      if (!done) sink.event(event);
    });
    call.on('error', (err: ServiceError) => finish(errorFromGrpc(err)));
    call.on('end', () => finish());
    return handle;
  }

  call<K extends SchedulerCallName>(name: K, request: SchedulerCallRequests[K], options: { timeoutMs: number }): Promise<void> {
    const def = SchedulerService[name] as unknown as UnaryDefinition<K>;
    return new Promise<void>((resolve, reject) => {
      this.client.makeUnaryRequest(
        def.path,
        def.requestSerialize,
        def.responseDeserialize,
        request,
        { deadline: Date.now() + options.timeoutMs },
        (err) => (err ? reject(errorFromGrpc(err)) : resolve()),
      );
    });
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    for (const s of [...this.streams]) s.cancel();
    this.client.close();
  }
}
