import { Cleanup, startAgentProcess, startMasterProcess, waitFor } from '@meso/testing';
import { afterEach, describe, expect, it } from 'vitest';
import { startBatchProcess, waitForJob } from './support.js';

// Real `meso master`, `meso agent` and `meso-batch` processes on loopback, with the agent's
// memory isolator active: it kills a container (executor and tasks) over the memory it was given.

const cleanup = new Cleanup();
afterEach(() => cleanup.run());

describe('the batch executor under the memory isolator', () => {
  it('small tasks (mem 16) finish and the long-lived executor (a Node process) is not killed for memory', async () => {
    // posix/mem: what agents in containers use (no writable cgroups) and the strict account —
    // the executor's own resident memory (RssAnon + RssShmem, ~45 MB for this Node process)
    // counts in full; a memory cgroup charges it only the pages it touched after joining.
    const master = await startMasterProcess(cleanup);
    await startAgentProcess(cleanup, master.address, 'cpus:2;mem:2048;disk:1024', ['--isolation', 'posix/cpu,posix/mem']);
    const cluster = { master: master.address, dir: await cleanup.tempDir('meso-batch-test-') };
    const state = await waitFor('the agent in /state', async () => {
      const s = (await (await fetch(`http://${cluster.master}/state`)).json()) as { agents: { isolators: string[] }[] };
      return s.agents.length === 1 ? s : undefined;
    });
    const isolators = state.agents[0]!.isolators;
    // Loud, not skipped: without a memory isolator this test would prove nothing.
    expect(isolators, 'the memory isolator is active').toContain('posix/mem');
    const batch = await startBatchProcess(cleanup, cluster);
    // Two waves of two tasks that each allocate a little, so the executor runs tasks for a while.
    const res = await batch.api('POST', '/v1/jobs', { id: 'small', user: 'ann', command: 'x=$(head -c 2000000 /dev/zero | tr "\\0" a); sleep 2', instances: 4, cpus: 0.9, mem: 16, maxRetries: 0 });
    expect(res.status).toBe(201);
    // The executor's own memory is allocated, not taken unseen by the agent: the master counts
    // it (128 MB by default) beside the running tasks' for the framework.
    await waitFor('the executor memory allocated to fw-batch', async () => {
      const s = (await (await fetch(`http://${master.address}/state`)).json()) as { frameworks: { name: string; resources: { used: Record<string, number> } }[] };
      const used = s.frameworks.find((f) => f.name === 'batch')?.resources.used;
      return used && (used['mem'] ?? 0) >= 128 + 16 && (used['cpus'] ?? 0) >= 0.1 + 0.9 ? used : undefined;
    }, 60_000);
    const job = await waitForJob(batch, 'small', 'finished or failed', (j) => j.state === 'succeeded' || j.state === 'failed', 120_000);
    const attempts = job.tasks.flatMap((t: any) => t.attempts);
    const ends = attempts.map((a: any) => (a.state === 'FINISHED' ? a.state : `${a.state}: ${a.message ?? ''}`));
    expect(ends, 'every attempt FINISHED (none killed with the executor for memory)').toEqual(Array(4).fill('FINISHED'));
    expect(job.state).toBe('succeeded');
    expect(attempts.every((a: any) => a.executor === 'batch')).toBe(true);
    // One executor ran them all: it was never killed and relaunched.
    expect(new Set(attempts.map((a: any) => a.sandbox)).size).toBe(1);
  });
});
