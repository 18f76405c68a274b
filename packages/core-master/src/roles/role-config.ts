import { Resources, UNRESERVED_ROLE, type MesoErrorCode } from '@meso/proto';
import { MasterError, type MasterErrorCode } from '../errors.js';

/** The scalars a quota may limit. */
export const QUOTA_RESOURCES = ['cpus', 'mem', 'disk', 'gpus'] as const;

/** A weight for a role, as operators and start flags give it. */
export interface WeightEntry {
  role: string;
  weight: number;
}

const ROLE = /^[\w.-]+(\/[\w.-]+)*$/;

/**
 * Checks a role name as Mesos does: `/`-separated segments of letters, digits, `_`, `.`,
 * `-`; no `.` or `..` segment, none starting with `-`; never `*` (the unreserved role has
 * no weight or quota of its own). Throws MasterError(`code`) naming `field`.
 */
export function checkRoleName(role: unknown, field: string, code: MasterErrorCode = 'INVALID_ARGUMENT'): string {
  if (typeof role !== 'string' || role === '') throw new MasterError(code, 'a role name is required', field);
  if (role === UNRESERVED_ROLE) throw new MasterError(code, `'*' is the unreserved role: it takes no weight or quota`, field);
  const segments = role.split('/');
  if (!ROLE.test(role) || segments.some((s) => s === '.' || s === '..' || s.startsWith('-'))) {
    throw new MasterError(code, `'${role}' is not a valid role name (segments of letters, digits, '_', '.', '-', separated by '/')`, field);
  }
  return role;
}

/** Checks one weight: a finite number > 0. */
export function checkWeight(weight: unknown, field: string, code: MasterErrorCode = 'INVALID_ARGUMENT'): number {
  if (typeof weight !== 'number' || !Number.isFinite(weight) || weight <= 0) {
    throw new MasterError(code, `a weight must be a number > 0, got ${String(weight)}`, field);
  }
  return weight;
}

/**
 * Checks a list of weights, all or nothing: each role valid and named once, each weight
 * > 0. Fields are `<field>[i].role` / `<field>[i].weight`.
 */
export function checkWeights(list: readonly { role?: unknown; weight?: unknown }[], field = 'weights'): WeightEntry[] {
  if (list.length === 0) throw new MasterError('INVALID_ARGUMENT', 'at least one weight is required', field);
  const seen = new Set<string>();
  return list.map((w, i) => {
    const role = checkRoleName(w.role, `${field}[${i}].role`);
    if (seen.has(role)) throw new MasterError('INVALID_ARGUMENT', `role '${role}' is given twice`, `${field}[${i}].role`);
    seen.add(role);
    return { role, weight: checkWeight(w.weight, `${field}[${i}].weight`) };
  });
}

/**
 * Checks quota limits given as scalar name → amount: names among cpus, mem, disk, gpus,
 * amounts finite and > 0 (a scalar not named is unlimited; no limits at all removes the
 * quota). Fields are `<field>.<name>`.
 */
export function checkQuotaLimits(limits: ReadonlyMap<string, unknown>, field = 'limits', code: MesoErrorCode = 'INVALID_ARGUMENT'): Resources {
  const values: Record<string, number> = {};
  for (const [name, value] of limits) {
    if (!(QUOTA_RESOURCES as readonly string[]).includes(name)) {
      throw new MasterError(code, `'${name}' cannot have a quota: only ${QUOTA_RESOURCES.join(', ')}`, `${field}.${name}`);
    }
    if (typeof value !== 'number' || !Number.isFinite(value) || value <= 0) {
      throw new MasterError(code, `a limit must be a number > 0, got ${String(value)}`, `${field}.${name}`);
    }
    values[name] = value;
  }
  return Resources.scalars(values);
}
