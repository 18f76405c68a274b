// The resource monitor (Mesos's ResourceMonitor): samples every isolated executor's usage
// at an interval and sends it to the master (AgentMessage.usage); answers
// GET /monitor/statistics with a fresh sample.
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { AgentMessage, Clock, Logger, TaskInfo, TimerHandle } from '@meso/proto';
import type { ContainerIsolation } from '../isolation/container-isolation.js';
import { statisticsJson, type ExecutorSample } from './statistics-json.js';

/** A container the monitor samples. */
export interface MonitoredContainer {
  frameworkId: string;
  executorId: string;
  name: string;
  source: string;
  allocated: TaskInfo['resources'];
  isolation: ContainerIsolation;
}

export interface ResourceMonitorOptions {
  containers(): MonitoredContainer[];
  /** Sends to the master; false when not connected (the sample is then dropped). */
  send(message: AgentMessage): boolean;
  intervalMs: number;
  clock: Clock;
  logger: Logger;
}

export class ResourceMonitor {
  private timer: TimerHandle | undefined;
  private closed = false;

  constructor(private readonly o: ResourceMonitorOptions) {}

  /** Samples every container now. */
  async sample(): Promise<Array<ExecutorSample & { allocated: TaskInfo['resources'] }>> {
    const now = this.o.clock.now();
    return Promise.all(
      this.o.containers().map(async (c) => ({
        frameworkId: c.frameworkId,
        executorId: c.executorId,
        executorName: c.name,
        source: c.source,
        allocated: c.allocated,
        statistics: await c.isolation.usage(now),
      })),
    );
  }

  /** Starts sampling and reporting to the master. */
  start(): void {
    const loop = (): void => {
      if (this.closed) return;
      this.timer = this.o.clock.setTimeout(() => {
        void this.report().finally(loop);
      }, this.o.intervalMs);
    };
    loop();
  }

  private async report(): Promise<void> {
    try {
      const samples = await this.sample();
      this.o.send({
        message: {
          $case: 'usage',
          value: {
            executors: samples.map((s) => ({ frameworkId: { value: s.frameworkId }, executorId: { value: s.executorId }, allocated: s.allocated, statistics: s.statistics })),
          },
        },
      });
    } catch (e) {
      this.o.logger.debug('usage sample failed', { error: (e as Error).message });
    }
  }

  /** HTTP: GET /monitor/statistics (and `.json`, as Mesos); false for other paths. */
  handle(req: IncomingMessage, res: ServerResponse): boolean {
    const path = (req.url ?? '').split('?')[0];
    if (path !== '/monitor/statistics' && path !== '/monitor/statistics.json') return false;
    if (req.method !== 'GET') {
      res.writeHead(405, { allow: 'GET', 'content-type': 'application/json' }).end(JSON.stringify({ error: `${req.method} is not allowed; use GET` }));
      return true;
    }
    this.sample().then(
      (samples) => res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(statisticsJson(samples))),
      (e: unknown) => res.writeHead(500, { 'content-type': 'application/json' }).end(JSON.stringify({ error: (e as Error).message })),
    );
    return true;
  }

  close(): void {
    this.closed = true;
    this.o.clock.clearTimeout(this.timer);
  }
}
