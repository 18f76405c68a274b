import { parseResources } from '@meso/sdk-scheduler';
import { describe, expect, it } from 'vitest';
import { OfferLedger } from './offer-ledger.js';

describe('OfferLedger', () => {
  it('without volumes takes unreserved cpus, mem and the port', () => {
    const l = new OfferLedger(parseResources('cpus:1;mem:512;ports:[31000-31010]'), 'redis', false);
    const t = l.take({ cpus: 0.1, mem: 96, port: 31002 });
    expect(t.reserve).toEqual([]);
    expect(t.task.toString()).toBe(parseResources('cpus:0.1;mem:96;ports:[31002-31002]').toString());
  });

  it('with volumes reserves the unreserved part and the new volume disk, and launches on the reservation', () => {
    const l = new OfferLedger(parseResources('cpus:1;mem:512;disk:1024;cpus(redis):0.05;ports:[31000-31010]'), 'redis', true);
    const t = l.take({ cpus: 0.1, mem: 96, port: 31000, newVolumeDiskMb: 256 });
    expect(t.reserve).toEqual([
      { name: 'cpus', kind: 'scalar', value: 0.05, role: 'redis' },
      { name: 'mem', kind: 'scalar', value: 96, role: 'redis' },
      { name: 'disk', kind: 'scalar', value: 256, role: 'redis' },
    ]);
    expect(t.task.toString()).toBe(parseResources('cpus(redis):0.1;mem(redis):96;ports:[31000-31000]').toString());
  });

  it('keeps track of what earlier servers took', () => {
    const l = new OfferLedger(parseResources('cpus:1;mem:512;mem(redis):96;ports:[31000-31010]'), 'redis', false);
    expect(l.take({ cpus: 0.1, mem: 96, port: 31000 }).task.toString()).toBe(parseResources('cpus:0.1;mem(redis):96;ports:[31000-31000]').toString());
    expect(l.take({ cpus: 0.1, mem: 96, port: 31001 }).task.toString()).toBe(parseResources('cpus:0.1;mem:96;ports:[31001-31001]').toString());
  });
});
