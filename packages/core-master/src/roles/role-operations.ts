import { Resources } from '@meso/proto';
import { MasterError } from '../errors.js';
import type { Master } from '../master.js';
import { checkRoleName, type WeightEntry } from './role-config.js';
import { roleUsed } from './role-views.js';

/**
 * Sets weights (already checked with `checkWeights`: all or nothing) as the operator's:
 * persisted, and winning over start-flag weights after a restart. Outstanding offers stay;
 * the next cycles follow the new weights. Resolves when the registry has them.
 */
export async function updateWeights(master: Master, weights: readonly WeightEntry[]): Promise<void> {
  const persisted = master.commit({ type: 'weightsSet', weights: [...weights], source: 'operator' });
  master.logger.info('role weights updated', { weights: Object.fromEntries(weights.map((w) => [w.role, w.weight])) });
  master.requestAllocation();
  await persisted;
}

/**
 * Sets a role's quota limits (checked with `checkQuotaLimits`), or removes its quota when
 * `limits` is empty. Refused (INVALID_ARGUMENT naming `<field>.<name>`, nothing changed)
 * when the role's tasks and executors already use more than a limit; outstanding offers
 * of the role are rescinded when they take it over a limit. Persisted.
 */
export async function setQuota(master: Master, role: string, limits: Resources, roleField = 'role', field = 'limits'): Promise<void> {
  checkRoleName(role, roleField);
  const model = master.model;
  const used = roleUsed(model, role);
  for (const limit of limits.toList()) {
    if (limit.kind !== 'scalar') continue;
    const uses = used.scalar(limit.name);
    if (uses > limit.value) {
      throw new MasterError('INVALID_ARGUMENT', `role ${role} uses ${uses}, limit ${limit.value}: stop tasks first or set a higher limit`, `${field}.${limit.name}`);
    }
  }
  let allocated = used;
  for (const o of model.offers.values()) if (o.role === role) allocated = allocated.add(o.resources);
  const over = limits.toList().some((l) => l.kind === 'scalar' && allocated.scalar(l.name) > l.value);
  if (over) master.rescindWhere((o) => o.role === role, `quota of role ${role} lowered`);
  const persisted = master.commit({ type: 'quotaSet', role, limits });
  master.logger.info(limits.isEmpty() ? 'role quota removed' : 'role quota set', { role, limits: limits.toString() });
  master.requestAllocation();
  await persisted;
}
