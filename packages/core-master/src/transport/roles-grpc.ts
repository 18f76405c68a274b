import type { sendUnaryData, ServerUnaryCall } from '@grpc/grpc-js';
import { resourcesToWire, ValueType, UNRESERVED_ROLE, type GetRolesRequest, type GetRolesResponse, type RoleInfo, type SetQuotaRequest, type UpdateWeightsRequest } from '@meso/proto';
import { MasterError } from '../errors.js';
import type { Master } from '../master.js';
import { checkQuotaLimits, checkWeights } from '../roles/role-config.js';
import { setQuota, updateWeights } from '../roles/role-operations.js';
import { roleViews, type RoleView } from '../roles/role-views.js';
import { toGrpcError } from './grpc-errors.js';

type WireResource = SetQuotaRequest['limits'][number];

function roleToWire(v: RoleView): RoleInfo {
  return {
    name: v.name,
    weight: v.weight,
    quotaLimits: v.quota ? resourcesToWire(v.quota) : [],
    allocated: resourcesToWire(v.allocated),
    reserved: resourcesToWire(v.reserved),
    frameworks: v.frameworks.map((value) => ({ value })),
  };
}

function rolesResponse(master: Master): GetRolesResponse {
  return { roles: roleViews(master.model).map(roleToWire) };
}

/** SetQuota's limits: unreserved scalars named once each; then `checkQuotaLimits` (fields `limits.<name>`). */
function limitsOf(list: readonly WireResource[]): Map<string, number> {
  const limits = new Map<string, number>();
  list.forEach((r, i) => {
    if (r.type !== ValueType.SCALAR) throw new MasterError('INVALID_ARGUMENT', 'a quota limit must be a scalar', `limits[${i}].type`);
    if (r.role !== '' && r.role !== UNRESERVED_ROLE) throw new MasterError('INVALID_ARGUMENT', 'a quota limit takes no role', `limits[${i}].role`);
    if (limits.has(r.name)) throw new MasterError('INVALID_ARGUMENT', `${r.name} is limited twice`, `limits[${i}].name`);
    limits.set(r.name, r.scalar);
  });
  return limits;
}

function unary<Req, Res>(master: Master, what: string, fn: (req: Req) => Promise<Res> | Res) {
  return (call: ServerUnaryCall<Req, Res>, callback: sendUnaryData<Res>): void => {
    Promise.resolve()
      .then(() => fn(call.request))
      .then(
        (res) => callback(null, res),
        (e: unknown) => callback(toGrpcError(master, e, what)),
      );
  };
}

/**
 * The Operator calls on roles: GetRoles (every known role with weight, quota, allocation,
 * reservations and frameworks), UpdateWeights (all or nothing; fields `weights[i].role`,
 * `weights[i].weight`), SetQuota (empty limits remove; fields `role`, `limits[i].type`,
 * `limits.<name>`). Each answers the roles afterwards.
 */
export function rolesCalls(master: Master) {
  return {
    getRoles: unary<GetRolesRequest, GetRolesResponse>(master, 'GetRoles', () => rolesResponse(master)),
    updateWeights: unary<UpdateWeightsRequest, GetRolesResponse>(master, 'UpdateWeights', async (req) => {
      await updateWeights(master, checkWeights(req.weights));
      return rolesResponse(master);
    }),
    setQuota: unary<SetQuotaRequest, GetRolesResponse>(master, 'SetQuota', async (req) => {
      await setQuota(master, req.role, checkQuotaLimits(limitsOf(req.limits)));
      return rolesResponse(master);
    }),
  };
}
