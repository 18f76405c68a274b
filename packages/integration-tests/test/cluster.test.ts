import { describe, inject } from 'vitest';
import { clients } from '../src/clients.js';
import { agentLoss } from './scenarios/agent-loss.js';
import { drf } from './scenarios/drf.js';
import { frameworkRestarts } from './scenarios/framework-restarts.js';
import { masterRestart } from './scenarios/master-restart.js';
import { sharing } from './scenarios/sharing.js';

// One cluster in containers (started by global-setup.ts) through the scenarios, in this order:
// each builds on what the ones before left running (the apps, jobs and runs), and the faults
// come last. Vitest runs the describe blocks of a file in sequence.
const topology = inject('topology');
const api = clients(topology);

describe.sequential('the whole cluster in containers', () => {
  sharing(topology, api);
  drf(topology, api);
  agentLoss(topology, api);
  masterRestart(topology, api);
  frameworkRestarts(topology, api);
});
