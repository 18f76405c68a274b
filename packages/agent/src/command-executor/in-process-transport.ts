// The executor SDK's transport for an executor hosted in the agent process: its calls go
// straight to the agent's executor API, and the API's events come back on an in-process
// sink, in order (each on a microtask, never re-entering the caller).
import type { ExecutorEvent, ExecutorMessageRequest, ExecutorSubscribeRequest, ExecutorUpdateRequest } from '@meso/proto';
import { ExecutorError, type ExecutorOptions } from '@meso/sdk-executor';
import { CallRefusedError } from '../errors.js';
import type { EventSink, ExecutorApi } from '../executor-server.js';

type Transport = NonNullable<ExecutorOptions['transport']>;
type Observer = Parameters<Transport['subscribe']>[1];

/** The SDK's error for a refused call, as the gRPC transport maps the same refusal. */
export function executorErrorOf(e: unknown, what: string): ExecutorError {
  if (!(e instanceof CallRefusedError)) return new ExecutorError('DISCONNECTED', `${what}: ${(e as Error)?.message ?? String(e)}`, { cause: e });
  const { code, message } = e.details;
  if (code === 'PERMISSION_DENIED') return new ExecutorError('UNAUTHORIZED', `${what}: the agent rejected the executor token (${message})`, { cause: e });
  if (code === 'UNKNOWN_EXECUTOR') return new ExecutorError('UNKNOWN_EXECUTOR', `${what}: the agent does not know this executor (${message})`, { cause: e });
  if (code === 'UNAVAILABLE') return new ExecutorError('DISCONNECTED', `${what}: ${message}`, { cause: e });
  return new ExecutorError('REJECTED', `${what}: ${message}`, { cause: e });
}

/** The agent's end of an in-process subscription. Ending it does not tell the executor: its host ends it. */
class InProcessSink implements EventSink {
  private isClosed = false;
  private readonly listeners: Array<() => void> = [];

  constructor(private observer: Observer | undefined) {}

  send(event: ExecutorEvent): boolean {
    if (this.isClosed) return false;
    queueMicrotask(() => this.observer?.onEvent(event));
    return true;
  }

  end(): void {
    this.detach();
  }

  onClose(listener: () => void): void {
    if (this.isClosed) listener();
    else this.listeners.push(listener);
  }

  get closed(): boolean {
    return this.isClosed;
  }

  /** Stops delivering events to the executor. */
  detach(): void {
    this.observer = undefined;
    if (this.isClosed) return;
    this.isClosed = true;
    for (const l of this.listeners.splice(0)) l();
  }

  /** The subscription was refused: the executor is told why. */
  fail(error: ExecutorError): void {
    const observer = this.observer;
    this.detach();
    observer?.onEnd(error);
  }
}

/** The in-process transport: one per hosted executor. */
export class InProcessTransport implements Transport {
  private sinks = new Set<InProcessSink>();
  private closed = false;

  constructor(private readonly api: ExecutorApi) {}

  subscribe(request: ExecutorSubscribeRequest, observer: Observer): { cancel(): void } {
    const sink = new InProcessSink(observer);
    this.sinks.add(sink);
    sink.onClose(() => this.sinks.delete(sink));
    queueMicrotask(() => {
      if (sink.closed) return;
      try {
        this.api.subscribe(request, sink);
      } catch (e) {
        sink.fail(executorErrorOf(e, 'subscribe'));
      }
    });
    return { cancel: () => sink.detach() };
  }

  async update(request: ExecutorUpdateRequest): Promise<void> {
    if (this.closed) throw new ExecutorError('DISCONNECTED', 'update: the executor was detached from the agent');
    await this.api.update(request).catch((e: unknown) => {
      throw executorErrorOf(e, 'update');
    });
  }

  async message(request: ExecutorMessageRequest): Promise<void> {
    if (this.closed) throw new ExecutorError('DISCONNECTED', 'message: the executor was detached from the agent');
    await this.api.message(request).catch((e: unknown) => {
      throw executorErrorOf(e, 'message');
    });
  }

  /** Ends every subscription without telling the executor (it is being dropped or has ended). */
  close(): void {
    this.closed = true;
    for (const s of [...this.sinks]) s.detach();
  }
}
