import { describe, expect, it } from 'vitest';
import { parseAttributes, parseResources } from './parse.js';
import { Resources } from './resources.js';
import { resourcesFromWire, resourcesToWire } from './convert.js';

const r = (text: string): Resources => parseResources(text);

describe('Resources arithmetic', () => {
  it('keeps three decimal digits exactly, however often it adds', () => {
    let sum = Resources.empty();
    for (let i = 0; i < 10; i++) sum = sum.add(Resources.scalars({ cpus: 0.1 }));
    expect(sum.scalar('cpus')).toBe(1);
    expect(Resources.scalars({ cpus: 0.12345 }).scalar('cpus')).toBe(0.123);
  });

  it('is the seed scenario: 4 cpus / 4096 MB less two tasks leaves 1 cpu / 1024 MB', () => {
    const agent = r('cpus:4;mem:4096');
    const used = Resources.scalars({ cpus: 2, mem: 1024 }).add(Resources.scalars({ cpus: 1, mem: 2048 }));
    expect(agent.contains(used)).toBe(true);
    expect(agent.subtract(used).toString()).toBe('cpus:1;mem:1024');
  });

  it('subtracts and contains port ranges', () => {
    const total = r('ports:[31000-32000]');
    const taken = r('ports:[31000-31001,31500-31500]');
    expect(total.subtract(taken).ranges('ports')).toEqual([
      { begin: 31002, end: 31499 },
      { begin: 31501, end: 32000 },
    ]);
    expect(total.contains(r('ports:[31999-32000]'))).toBe(true);
    expect(total.contains(r('ports:[32000-32001]'))).toBe(false);
  });

  it('keeps roles apart: reserved resources are not unreserved ones', () => {
    const agent = r('cpus(prod):2;cpus:2;mem:1024');
    expect(agent.scalar('cpus')).toBe(4);
    expect(agent.allocatableTo('dev').scalar('cpus')).toBe(2);
    expect(agent.allocatableTo('prod').scalar('cpus')).toBe(4);
    expect(agent.contains(r('cpus(dev):1'))).toBe(false);
  });

  it('says what is missing', () => {
    const offer = r('cpus:1;mem:1024;ports:[31000-31000]');
    expect(offer.shortfall(r('cpus:2;mem:512;ports:[31000-31001]'))).toEqual([
      'cpus: need 2, have 1',
      'ports: [31001-31001] not available',
    ]);
    expect(offer.shortfall(r('cpus:1'))).toEqual([]);
  });

  it('round-trips through the wire form', () => {
    const x = r('cpus:2.5;mem:1024;ports:[31000-31010];disks:{a,b};cpus(prod):1');
    expect(resourcesFromWire(resourcesToWire(x)).equals(x)).toBe(true);
  });
});

describe('parseResources (the agent flag)', () => {
  it('reads Mesos text syntax', () => {
    const x = r('cpus:24;mem:24576;disk:409600;ports:[21000-24000,30000-34000]');
    expect(x.scalar('mem')).toBe(24576);
    expect(x.ranges('ports')).toEqual([
      { begin: 21000, end: 24000 },
      { begin: 30000, end: 34000 },
    ]);
  });

  it('reads Mesos JSON syntax', () => {
    const x = parseResources('[{"name":"cpus","type":"SCALAR","scalar":{"value":4}},{"name":"ports","type":"RANGES","ranges":{"range":[{"begin":31000,"end":31005}]}}]');
    expect(x.toString()).toBe('cpus:4;ports:[31000-31005]');
  });

  it.each([
    ['cpus:abc', "--resources 'cpus:abc': 'abc' is not a number, [ranges] or {set}"],
    ['cpus:-1', "--resources 'cpus:-1'.value: cpus must not be negative, got -1"],
    ['cpus', "--resources 'cpus': 'cpus' is not of the form name:value or name(role):value"],
    ['ports:[32000-31000]', "--resources 'ports:[32000-31000]': range '32000-31000' ends before it begins"],
    ['gpus:1.5', "--resources 'gpus:1.5'.value: gpus must be a whole number, got 1.5"],
    ['cpus:1;cpus:[1-2]', '--resources[1]: cpus is given both as scalar and as ranges'],
    ['[{"name":"cpus"', '--resources: not valid JSON'],
  ])('refuses %s naming the fragment', (text, message) => {
    expect(() => parseResources(text)).toThrow(message);
  });

  it('refuses NaN and infinity from code too', () => {
    expect(() => Resources.scalars({ cpus: Number.NaN })).toThrow('cpus must be a finite number');
    expect(() => Resources.scalars({ mem: Number.POSITIVE_INFINITY })).toThrow('mem must be a finite number');
  });
});

describe('parseAttributes', () => {
  it('reads text, scalar, ranges and sets', () => {
    expect(parseAttributes('rack:r1;level:10;ids:[1-3];zones:{a,b}')).toEqual([
      { name: 'rack', kind: 'text', text: 'r1' },
      { name: 'level', kind: 'scalar', value: 10 },
      { name: 'ids', kind: 'ranges', ranges: [{ begin: 1, end: 3 }] },
      { name: 'zones', kind: 'set', items: ['a', 'b'] },
    ]);
  });

  it('refuses a repeated or malformed attribute', () => {
    expect(() => parseAttributes('rack:a;rack:b')).toThrow("attribute 'rack' is given twice");
    expect(() => parseAttributes('rack')).toThrow("--attributes 'rack'");
  });
});
