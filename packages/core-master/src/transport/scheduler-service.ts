import type { sendUnaryData, ServerUnaryCall, ServerWritableStream } from '@grpc/grpc-js';
import type { CallContext, CallResponse, Event, SchedulerServer, SubscribeRequest } from '@meso/proto';
import { runSchedulerCall, type SchedulerCallType } from '../calls/dispatch.js';
import { frameworkStreamEnded, subscribe, teardown, updateFramework } from '../calls/framework-calls.js';
import { accept, decline, revive, suppress } from '../calls/offer-calls.js';
import { acknowledge, frameworkMessage, kill, reconcile, shutdownExecutor } from '../calls/task-calls.js';
import type { FrameworkLink } from '../links.js';
import type { Master } from '../master.js';
import type { FrameworkRecord } from '../model/model.js';
import { later } from './fault-injection.js';
import { deliver } from './faulty-delivery.js';
import { toGrpcError } from './grpc-errors.js';
import { TurnBatcher } from './turn-batcher.js';

type Unary<R> = (call: ServerUnaryCall<R, CallResponse>, callback: sendUnaryData<CallResponse>) => void;

function unary<R extends { context?: CallContext | undefined }>(
  master: Master,
  type: SchedulerCallType,
  handler: (fw: FrameworkRecord, req: R) => void | Promise<void>,
): Unary<R> {
  return (call, callback) => {
    const run = (): void => {
      runSchedulerCall(master, type, call.request, handler).then(
        () => callback(null, {}),
        (e: unknown) => callback(toGrpcError(master, e, type)),
      );
    };
    if (!master.faults.enabled) return run();
    // A dropped call is answered OK and never carried out (as a lost 202 would be in Mesos).
    const fault = master.faults.decide('from_framework', type.toLowerCase());
    if (fault.action === 'drop') callback(null, {});
    else if (fault.action === 'delay') later(master)(run, fault.ms);
    else run();
  };
}

/**
 * The link of one subscription stream. To a subscriber that accepts batches, the events the
 * master makes while handling one message or call (e.g. the updates of an agent's batch) go
 * out as one Event `batch` (see TurnBatcher).
 */
function streamLink(master: Master, call: ServerWritableStream<SubscribeRequest, Event>, streamId: string): FrameworkLink {
  const out = new TurnBatcher<Event>(
    (event) => {
      if (!call.writableEnded && !call.cancelled) call.write(event);
    },
    (events) => ({ event: { $case: 'batch', value: { events } } }),
  );
  out.enable(call.request.acceptsBatches === true);
  return {
    streamId,
    send: (event) => deliver(master, 'to_framework', event.event?.$case, () => out.send(event)),
    close: (error) => {
      if (call.writableEnded) return;
      out.flush();
      if (error && !call.cancelled) call.write({ event: { $case: 'error', value: error } });
      call.end();
    },
  };
}

function subscribeHandler(master: Master): (call: ServerWritableStream<SubscribeRequest, Event>) => void {
  return (call) => {
    master.metrics.countCall('SUBSCRIBE');
    let ended: (() => void) | undefined;
    let streamEnded = false;
    const onEnd = (): void => {
      streamEnded = true;
      ended?.();
    };
    call.on('cancelled', onEnd);
    call.on('close', onEnd);
    call.on('error', () => onEnd());
    subscribe(master, call.request, (streamId) => streamLink(master, call, streamId)).then(
      ({ frameworkId, streamId }) => {
        ended = () => master.safely('ending a subscription', () => frameworkStreamEnded(master, frameworkId, streamId));
        if (streamEnded) ended();
      },
      (e: unknown) => call.emit('error', toGrpcError(master, e, 'SUBSCRIBE')),
    );
  };
}

/** The Scheduler service: SUBSCRIBE's event stream and the unary calls, translated to the master's calls. */
export function schedulerService(master: Master): SchedulerServer {
  return {
    subscribe: subscribeHandler(master),
    accept: unary(master, 'ACCEPT', (fw, req) => accept(master, fw, req)),
    decline: unary(master, 'DECLINE', (fw, req) => decline(master, fw, req)),
    revive: unary(master, 'REVIVE', (fw, req) => revive(master, fw, req)),
    suppress: unary(master, 'SUPPRESS', (fw, req) => suppress(master, fw, req)),
    kill: unary(master, 'KILL', (fw, req) => kill(master, fw, req)),
    shutdown: unary(master, 'SHUTDOWN', (fw, req) => shutdownExecutor(master, fw, req)),
    acknowledge: unary(master, 'ACKNOWLEDGE', (fw, req) => acknowledge(master, fw, req)),
    reconcile: unary(master, 'RECONCILE', (fw, req) => reconcile(master, fw, req)),
    message: unary(master, 'MESSAGE', (fw, req) => frameworkMessage(master, fw, req)),
    teardown: unary(master, 'TEARDOWN', (fw) => teardown(master, fw)),
    updateFramework: unary(master, 'UPDATE_FRAMEWORK', (fw, req) => updateFramework(master, fw, req)),
  };
}
