import type { sendUnaryData, ServerUnaryCall } from '@grpc/grpc-js';
import { resourcesToWire, type AgentResourcesRequest, type AgentResourcesResponse } from '@meso/proto';
import type { Master } from '../master.js';
import { operateOnAgent } from '../reservations/operator-reservations.js';
import type { ResourceOpType } from '../reservations/resource-operations.js';
import { toGrpcError } from './grpc-errors.js';

function call(master: Master, type: ResourceOpType, what: string) {
  return (c: ServerUnaryCall<AgentResourcesRequest, AgentResourcesResponse>, callback: sendUnaryData<AgentResourcesResponse>): void => {
    try {
      const agentId = c.request.agentId?.value ?? '';
      const total = operateOnAgent(master, type, agentId, c.request.resources);
      callback(null, { agentId: { value: agentId }, total: resourcesToWire(total) });
    } catch (e) {
      callback(toGrpcError(master, e, what));
    }
  };
}

/** ReserveResources, UnreserveResources, CreateVolumes, DestroyVolumes. */
export function reservationCalls(master: Master) {
  return {
    reserveResources: call(master, 'reserve', 'ReserveResources'),
    unreserveResources: call(master, 'unreserve', 'UnreserveResources'),
    createVolumes: call(master, 'create', 'CreateVolumes'),
    destroyVolumes: call(master, 'destroy', 'DestroyVolumes'),
  };
}
