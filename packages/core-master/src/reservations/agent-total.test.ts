import { parseResources } from '@meso/proto';
import { describe, expect, it } from 'vitest';
import { MasterError } from '../errors.js';
import { agentTotal } from './agent-total.js';

describe('agentTotal', () => {
  it.each([
    ['nothing checkpointed', 'cpus:4;mem:1024;disk:1000', '', 'cpus:4;disk:1000;mem:1024'],
    ['static reservations stay', 'cpus(prod):2;cpus:2;mem:1024', '', 'cpus:2;cpus(prod):2;mem:1024'],
    ['a dynamic reservation moves from unreserved', 'cpus:4;mem:1024', 'cpus(web):1;mem(web):256', 'cpus:3;cpus(web):1;mem:768;mem(web):256'],
    ['a whole reservation', 'cpus:4;mem:1024', 'cpus(web):4', 'cpus(web):4;mem:1024'],
    [
      'a volume is carved from dynamically reserved disk',
      'cpus:1;mem:64;disk:1000',
      'disk(db):300;disk(db)[v1:data]:100',
      'cpus:1;disk:700;disk(db):200;disk(db)[v1:data]:100;mem:64',
    ],
    ['a volume is carved from statically reserved disk', 'cpus:1;mem:64;disk(db):500', 'disk(db)[v1:data]:500', 'cpus:1;disk(db)[v1:data]:500;mem:64'],
    [
      'volumes of two roles',
      'cpus:1;mem:64;disk:1000',
      'disk(a):100;disk(b):100;disk(a)[x:d]:100;disk(b)[y:d]:50',
      'cpus:1;disk:800;disk(a)[x:d]:100;disk(b):50;disk(b)[y:d]:50;mem:64',
    ],
  ])('%s', (_name, staticText, checkpointedText, expected) => {
    expect(agentTotal(parseResources(staticText), parseResources(checkpointedText)).toString()).toBe(expected);
  });

  it.each([
    ['more than the unreserved resources', 'cpus:1;mem:64', 'cpus(web):2', 'cpus: need 2, have 1'],
    ['a volume without reserved disk', 'cpus:1;mem:64;disk:100', 'disk(db)[v1:data]:10', 'disk(db): need 10, have 0'],
    ['a volume larger than the reserved disk', 'cpus:1;mem:64;disk:100', 'disk(db):10;disk(db)[v1:data]:20', 'disk(db): need 20, have 10'],
  ])('refuses %s', (_name, staticText, checkpointedText, message) => {
    let error: unknown;
    try {
      agentTotal(parseResources(staticText), parseResources(checkpointedText));
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(MasterError);
    expect((error as MasterError).code).toBe('INVALID_RESOURCES');
    expect((error as MasterError).field).toBe('checkpointed_resources');
    expect((error as MasterError).message).toContain(message);
  });
});
