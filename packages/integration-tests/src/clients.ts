import type { Topology } from './topology.js';

export interface Reply {
  status: number;
  json: any;
  text: string;
}

/** One JSON-over-HTTP call; the body, when given, is sent as JSON. */
export async function call(base: string, method: string, path: string, body?: unknown): Promise<Reply> {
  const res = await fetch(`${base}${path}`, {
    method,
    ...(body === undefined ? {} : { body: JSON.stringify(body), headers: { 'content-type': 'application/json' } }),
    signal: AbortSignal.timeout(15_000),
  });
  const text = await res.text();
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    json = undefined;
  }
  return { status: res.status, json, text };
}

/** Like `call`, but throws (naming the call) on a status outside `expected`. */
export async function ok(base: string, method: string, path: string, body?: unknown, expected = [200, 201, 204]): Promise<any> {
  const reply = await call(base, method, path, body);
  if (!expected.includes(reply.status)) throw new Error(`${method} ${base}${path}: ${reply.status} ${reply.text.slice(0, 500)}`);
  return reply.json;
}

export interface StateTask {
  id: string;
  frameworkId: string;
  agentId: string;
  state: string;
  resources: Record<string, number | string>;
}
export interface StateAgent {
  id: string;
  hostname: string;
  status: string;
  attributes: Record<string, string | number>;
  resources: Record<'total' | 'used' | 'offered' | 'free', Record<string, number | string>>;
}
export interface StateFramework {
  id: string;
  name: string;
  active: boolean;
  connected: boolean;
  resources: { used: Record<string, number | string>; offered: Record<string, number | string> };
}
export interface MasterState {
  masterId: string;
  agents: StateAgent[];
  frameworks: StateFramework[];
  tasks: StateTask[];
  completedTasks: StateTask[];
}

/** Clients of the cluster's HTTP APIs: the master's /state, Marathon's /v2, Chronos's /v1/scheduler, batch's /v1, fw-redis's /v2. */
export function clients(t: Topology) {
  const master = `http://${t.master.address}`;
  const { marathon, chronos, batch, redis } = t.frameworks;
  return {
    state: async (): Promise<MasterState> => ok(master, 'GET', '/state'),
    framework: async (name: string): Promise<StateFramework | undefined> => ((await ok(master, 'GET', '/state')) as MasterState).frameworks.find((f) => f.name === name),
    marathon: {
      call: (method: string, path: string, body?: unknown) => call(marathon.url, method, path, body),
      deploy: (app: unknown) => ok(marathon.url, 'POST', '/v2/apps', app),
      tasks: async (app: string): Promise<any[]> => (await ok(marathon.url, 'GET', `/v2/apps${app}/tasks`)).tasks,
      info: () => ok(marathon.url, 'GET', '/v2/info'),
    },
    chronos: {
      add: (job: unknown) => ok(chronos.url, 'POST', '/v1/scheduler/iso8601', job),
      runs: async (job: string): Promise<any[]> => ok(chronos.url, 'GET', `/v1/scheduler/job/${job}/runs`),
      jobs: async (): Promise<any[]> => ok(chronos.url, 'GET', '/v1/scheduler/jobs'),
    },
    batch: {
      submit: (job: unknown) => ok(batch.url, 'POST', '/v1/jobs', job),
      job: (id: string) => ok(batch.url, 'GET', `/v1/jobs/${id}`),
      list: () => ok(batch.url, 'GET', '/v1/jobs?limit=1000'),
    },
    redis: {
      create: (instance: unknown) => ok(redis.url, 'POST', '/v2/instances', instance),
      instance: (name: string) => ok(redis.url, 'GET', `/v2/instances/${name}`),
    },
  };
}
export type Clients = ReturnType<typeof clients>;
