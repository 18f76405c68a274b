import type { IncomingMessage, ServerResponse } from 'node:http';
import type { EventBus, MarathonEvent } from './event-bus.js';

/**
 * Serves `/v2/events` as server-sent events: `event_type` filters (repeatable), every event
 * with its id, `Last-Event-ID` (or `?lastEventId=`) replays what the client missed. A client
 * that stops reading gets at most `maxPending` events queued; beyond that they are dropped and,
 * once it drains, it gets an explicit `resync` event carrying the last dropped id (it may
 * reconnect with it, or re-read the state) — never silent loss.
 */
export function serveEventStream(req: IncomingMessage, res: ServerResponse, q: URLSearchParams, bus: EventBus, maxPending: number): void {
  const types = new Set(q.getAll('event_type'));
  const wanted = (e: MarathonEvent): boolean => types.size === 0 || types.has(e.eventType);
  res.writeHead(200, { 'Content-Type': 'text/event-stream', 'Cache-Control': 'no-cache', Connection: 'keep-alive' });
  res.flushHeaders();
  let pending: { id: number; text: string }[] = [];
  // The id of the last event dropped for this client (0 = none): its resync event carries it,
  // so the client may also reconnect with it as Last-Event-ID and get the rest replayed.
  let droppedUpTo = 0;
  const frame = (e: MarathonEvent): string => `id: ${e.id}\nevent: ${e.eventType}\ndata: ${JSON.stringify(e.data)}\n\n`;
  const resync = (id: number, reason: string): string =>
    `id: ${id}\nevent: resync\ndata: ${JSON.stringify({ eventType: 'resync', lastEventId: id, reason })}\n\n`;
  const send = (id: number, text: string): void => {
    if (res.writableNeedDrain || pending.length > 0) {
      pending.push({ id, text });
      if (pending.length > maxPending) {
        droppedUpTo = id;
        pending = [];
      }
      return;
    }
    res.write(text);
  };
  res.on('drain', () => {
    if (droppedUpTo > 0) {
      res.write(resync(droppedUpTo, 'this client fell behind; events up to lastEventId were dropped: re-read the state'));
      droppedUpTo = 0;
    }
    while (pending.length > 0 && !res.writableNeedDrain) res.write(pending.shift()!.text);
  });
  const last = req.headers['last-event-id'] ?? q.get('lastEventId') ?? undefined;
  if (last !== undefined && /^\d+$/.test(String(last))) {
    const replay = bus.since(Number(last));
    if (replay.gap) res.write(resync((replay.events[0]?.id ?? bus.lastId + 1) - 1, `events after ${String(last)} are no longer buffered: re-read the state`));
    for (const e of replay.events) if (wanted(e)) send(e.id, frame(e));
  } else {
    res.write(': connected\n\n');
  }
  const unsubscribe = bus.subscribe((e) => {
    if (wanted(e)) send(e.id, frame(e));
  });
  const keepAlive = setInterval(() => {
    if (!res.writableNeedDrain && pending.length === 0) res.write(': keep-alive\n\n');
  }, 15_000);
  const stop = (): void => {
    unsubscribe();
    clearInterval(keepAlive);
  };
  req.on('close', stop);
  res.on('close', stop);
}
