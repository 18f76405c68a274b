import { describe, inject } from 'vitest';
import { clients } from '../src/clients.js';
import { sharing } from './scenarios/sharing.js';

// One cluster in containers (started by global-setup.ts) through the scenarios, in this order:
// each builds on what the ones before left running (the apps, jobs and runs), and the faults
// come last. Vitest runs the describe blocks of a file in sequence.
const topology = inject('topology');
const api = clients(topology);

describe.sequential('the whole cluster in containers', () => {
  sharing(topology, api);
});
