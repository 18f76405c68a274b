import { afterEach, describe, expect, it } from 'vitest';
import { Cleanup, startAgentProcess, startMasterProcess, waitFor } from '@meso/testing';
import { Tenant } from './roles-quota.fixture.js';

interface AgentJson {
  id: string;
  isolators: string[];
  usage?: { mem_rss_bytes: number; processes: number; cpus_user_time_secs: number; timestamp: number };
}

describe('usage statistics at the master, from a real agent', () => {
  const cleanup = new Cleanup();
  afterEach(() => cleanup.run());

  it("the agent's isolators and the sum of its executors' sampled usage reach /state and /metrics", async () => {
    const master = await startMasterProcess(cleanup);
    const agent = await startAgentProcess(cleanup, master.address, 'cpus:1;mem:512');
    const tenant = await Tenant.start(cleanup, master.address, 'usage', 'one');
    await waitFor('a task running', () => tenant.running.size > 0 || undefined, 120_000);
    // The agent samples every 10 s by default: wait for a report that counts the running task.
    const reported = await waitFor(
      'usage of the running executor in /state',
      async () => {
        const state = (await (await fetch(`http://${master.address}/state`)).json()) as { agents: AgentJson[] };
        const a = state.agents.find((x) => x.id === agent.agentId);
        return a?.usage && a.usage.processes > 0 && a.usage.mem_rss_bytes > 0 ? a : undefined;
      },
      90_000,
    );
    expect(reported.isolators.length).toBeGreaterThan(0);
    expect(reported.usage?.timestamp).toBeGreaterThan(0);
    const metrics = await (await fetch(`http://${master.address}/metrics`)).text();
    const rss = Number(/^meso_master_usage_mem_rss_bytes (\S+)$/m.exec(metrics)?.[1]);
    expect(rss).toBeGreaterThan(0);
    expect(tenant.failures).toEqual([]);
  });
});
