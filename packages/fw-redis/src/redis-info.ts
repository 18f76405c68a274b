import type { Observation } from './model.js';

/** Parses the text of Redis's INFO into field → value (sections flattened). */
export function parseInfo(text: string): Map<string, string> {
  const out = new Map<string, string>();
  for (const line of text.split(/\r?\n/)) {
    if (line === '' || line.startsWith('#')) continue;
    const i = line.indexOf(':');
    if (i > 0) out.set(line.slice(0, i), line.slice(i + 1));
  }
  return out;
}

const num = (f: Map<string, string>, key: string, fallback = 0): number => {
  const v = Number(f.get(key));
  return Number.isFinite(v) ? v : fallback;
};

/** What fw-redis keeps of a full INFO answer, read at `atMs`. */
export function observationOf(f: Map<string, string>, atMs: number): Observation {
  const role = f.get('role') === 'slave' ? 'slave' : 'master';
  const o: Observation = {
    at: atMs,
    role,
    runId: f.get('run_id') ?? '',
    pid: num(f, 'process_id'),
    uptimeSeconds: num(f, 'uptime_in_seconds'),
    connectedClients: num(f, 'connected_clients'),
    usedMemory: num(f, 'used_memory'),
    maxmemory: num(f, 'maxmemory'),
    offset: role === 'slave' ? num(f, 'slave_repl_offset', num(f, 'master_repl_offset')) : num(f, 'master_repl_offset'),
    priority: num(f, 'slave_priority', num(f, 'replica_priority', 100)),
    connectedReplicas: num(f, 'connected_slaves'),
  };
  if (role === 'slave') {
    o.masterHost = f.get('master_host') ?? '';
    o.masterPort = num(f, 'master_port');
    o.linkUp = f.get('master_link_status') === 'up';
    o.lastIoSecondsAgo = num(f, 'master_last_io_seconds_ago', -1);
  }
  return o;
}
