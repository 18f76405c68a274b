import type { sendUnaryData, ServerUnaryCall, ServerWritableStream } from '@grpc/grpc-js';
import { type AgentMaintenanceRequest, type AgentMaintenanceResponse, type ClusterEvent, type OperatorServer, type OperatorSubscribeRequest } from '@meso/proto';
import { setMaintenance, type MaintenanceAction } from '../agents/maintenance.js';
import type { Master } from '../master.js';
import type { MasterCommand } from '../model/commands.js';
import { isDrained, taskKey } from '../model/model.js';
import { agentState, clusterState, frameworkState, metricsFromText } from '../observe/operator-views.js';
import { taskToWire } from '../observe/wire-views.js';
import { toGrpcError } from './grpc-errors.js';
import { rolesCalls } from './roles-grpc.js';
import { reservationCalls } from './reservations-grpc.js';

/** The events an applied command means for operators. */
function eventsOf(master: Master, cmd: MasterCommand): ClusterEvent[] {
  const m = master.model;
  const agent = (id: string): ClusterEvent[] => {
    const a = m.agents.get(id);
    return a ? [{ event: { $case: 'agentUpdated', value: agentState(m, a) } }] : [];
  };
  const framework = (id: string, added = false): ClusterEvent[] => {
    const f = m.frameworks.get(id);
    if (!f) return [];
    const value = frameworkState(m, f);
    return [added ? { event: { $case: 'frameworkAdded', value } } : { event: { $case: 'frameworkUpdated', value } }];
  };
  switch (cmd.type) {
    case 'agentAdmitted': {
      const a = m.agents.get(cmd.agent.id);
      if (!a) return [];
      return [cmd.reregistered ? { event: { $case: 'agentUpdated', value: agentState(m, a) } } : { event: { $case: 'agentAdded', value: agentState(m, a) } }];
    }
    case 'agentDisconnected':
    case 'agentUnreachable':
    case 'agentMaintenanceSet':
    case 'agentResourcesUpdated':
      return agent(cmd.agentId);
    case 'agentGone':
      return [{ event: { $case: 'agentRemoved', value: { value: cmd.agentId } } }];
    case 'frameworkSubscribed':
      return framework(cmd.info.id?.value ?? '', cmd.isNew);
    case 'frameworkDisconnected':
      return framework(cmd.frameworkId);
    case 'frameworkUpdated':
      return framework(cmd.info.id?.value ?? '');
    case 'frameworkRemoved':
      return [{ event: { $case: 'frameworkRemoved', value: { value: cmd.frameworkId } } }];
    case 'tasksLaunched':
      return cmd.tasks.flatMap((t) => {
        const live = m.tasks.get(taskKey(t.frameworkId, t.taskId));
        return live ? [{ event: { $case: 'taskAdded' as const, value: taskToWire(live) } }] : [];
      });
    case 'statusUpdated': {
      const t = m.tasks.get(taskKey(cmd.frameworkId, cmd.taskId)) ?? m.completedTasks.findLast((c) => c.frameworkId === cmd.frameworkId && c.taskId === cmd.taskId);
      if (!t) return [];
      const events: ClusterEvent[] = [{ event: { $case: 'taskUpdated', value: taskToWire(t) } }];
      // The last task of a draining agent ending makes it DRAINED: operators hear of it.
      const drained = m.agents.get(t.agentId)?.maintenance === 'DRAINING' && !m.tasks.has(taskKey(t.frameworkId, t.taskId)) && isDrained(m, t.agentId);
      return drained ? [...events, ...agent(t.agentId)] : events;
    }
    default:
      return [];
  }
}

function subscribeHandler(master: Master): (call: ServerWritableStream<OperatorSubscribeRequest, ClusterEvent>) => void {
  return (call) => {
    const send = (e: ClusterEvent): void => {
      if (!call.writableEnded && !call.cancelled) call.write(e);
    };
    send({ event: { $case: 'snapshot', value: clusterState(master.model) } });
    const stop = master.observe((cmd) => eventsOf(master, cmd).forEach(send));
    const clock = master.options.clock;
    let timer = clock.setTimeout(function beat() {
      send({ event: { $case: 'heartbeat', value: {} } });
      timer = clock.setTimeout(beat, master.options.heartbeatIntervalSeconds * 1000);
    }, master.options.heartbeatIntervalSeconds * 1000);
    const end = (): void => {
      stop();
      clock.clearTimeout(timer);
    };
    call.on('cancelled', end);
    call.on('close', end);
    call.on('error', end);
  };
}

function maintenanceCall(master: Master, action: MaintenanceAction, what: string) {
  return (call: ServerUnaryCall<AgentMaintenanceRequest, AgentMaintenanceResponse>, callback: sendUnaryData<AgentMaintenanceResponse>): void => {
    setMaintenance(master, action, call.request.agentId?.value ?? '', 'agent_id').then(
      (r) => callback(null, { agentId: { value: r.agentId }, status: r.status }),
      (e: unknown) => callback(toGrpcError(master, e, what)),
    );
  };
}

/** The Operator service: state, agents, frameworks, tasks, metrics, the cluster event stream, maintenance, and roles (weights, quota). */
export function operatorService(master: Master): OperatorServer {
  const guard =
    <T>(what: string, fn: () => T) =>
    (_call: unknown, callback: (err: ReturnType<typeof toGrpcError> | null, value?: T) => void): void => {
      try {
        callback(null, fn());
      } catch (e) {
        callback(toGrpcError(master, e, what));
      }
    };
  return {
    getState: guard('GetState', () => clusterState(master.model)),
    getAgents: guard('GetAgents', () => ({ agents: clusterState(master.model).agents })),
    getFrameworks: guard('GetFrameworks', () => ({ frameworks: clusterState(master.model).frameworks })),
    getTasks: guard('GetTasks', () => {
      const s = clusterState(master.model);
      return { tasks: s.tasks, completedTasks: s.completedTasks };
    }),
    getMetrics: guard('GetMetrics', () => ({ metrics: metricsFromText(master.renderMetrics()) })),
    subscribe: subscribeHandler(master),
    drainAgent: maintenanceCall(master, 'drain', 'DrainAgent'),
    deactivateAgent: maintenanceCall(master, 'deactivate', 'DeactivateAgent'),
    reactivateAgent: maintenanceCall(master, 'reactivate', 'ReactivateAgent'),
    ...rolesCalls(master),
    ...reservationCalls(master),
  };
}
