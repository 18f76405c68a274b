import { Resources, parseResources } from '@meso/proto';
import { describe, expect, it } from 'vitest';
import { allocate } from './allocate.js';
import { withinQuota } from './quota.js';
import type { AllocatorFramework, AllocatorInput } from './types.js';

const res = (text: string): Resources => parseResources(text);

function framework(id: string, role: string, allocation = ''): AllocatorFramework {
  return { id, roles: [role], suppressedRoles: new Set(), active: true, allocation: new Map(allocation ? [[role, res(allocation)]] : []) };
}

describe('withinQuota', () => {
  it.each([
    // candidate, allocation, limit, offered
    ['cpus:4;mem:4096', '', 'cpus:2', 'cpus:2;mem:4096'],
    ['cpus:4;mem:4096', 'cpus:1.5;mem:100', 'cpus:2;mem:1024', 'cpus:0.5;mem:924'],
    ['cpus:4;mem:4096', 'cpus:3', 'cpus:2', 'mem:4096'],
    ['cpus:4;ports:[31000-31010]', '', 'cpus:1', 'cpus:1;ports:[31000-31010]'],
    ['cpus(prod):1;cpus:3', '', 'cpus:2', 'cpus:1;cpus(prod):1'],
    ['cpus:4;gpus:2', '', 'disk:100', 'cpus:4;gpus:2'],
  ])('%s holding <%s> under %s -> %s', (candidate, allocation, limit, offered) => {
    expect(withinQuota(res(candidate), allocation ? res(allocation) : Resources.empty(), res(limit)).toString()).toBe(offered);
  });
});

describe('allocate with quota', () => {
  const input = (partial: Partial<AllocatorInput>): AllocatorInput => ({ agents: [], frameworks: [], filters: [], now: 0, ...partial });

  it('caps a role at its limit while another role takes the rest', () => {
    const agents = ['s1', 's2', 's3'].map((id) => ({ id, total: res('cpus:4;mem:4096'), available: res('cpus:4;mem:4096'), active: true }));
    const out = allocate(
      input({ agents, frameworks: [framework('capped', 'dev'), framework('free', 'prod')], quotas: new Map([['dev', res('cpus:2;mem:1024')]]) }),
    );
    const byRole = (role: string): Resources => out.filter((d) => d.role === role).reduce((sum, d) => sum.add(d.resources), Resources.empty());
    expect(byRole('dev').scalar('cpus')).toBe(2);
    expect(byRole('dev').scalar('mem')).toBe(1024);
    expect(byRole('prod').scalar('cpus')).toBe(10);
    expect(byRole('prod').scalar('mem')).toBe(12288 - 1024);
  });

  it('offers a role at its limit nothing more', () => {
    const agents = [{ id: 's1', total: res('cpus:4;mem:4096'), available: res('cpus:2;mem:2048'), active: true }];
    const out = allocate(input({ agents, frameworks: [framework('capped', 'dev', 'cpus:2;mem:2048')], quotas: new Map([['dev', res('cpus:2;mem:2048')]]) }));
    expect(out).toEqual([]);
  });
});
