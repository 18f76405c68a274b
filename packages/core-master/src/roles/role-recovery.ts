import type { Master } from '../master.js';
import type { RegistryRoles } from '../model/registry.js';
import { checkQuotaLimits, checkRoleName, checkWeight, type WeightEntry } from './role-config.js';

/**
 * Loads the roles' configuration at start: the start-flag weights first, then what the
 * registry holds (weights the operator set win over flags, role by role, as in Mesos once
 * weights were set through the API), then the quotas. An entry the registry holds that
 * no longer validates is skipped with a warning rather than failing the start.
 */
export function recoverRoles(master: Master, optionWeights: readonly WeightEntry[], stored: RegistryRoles): void {
  if (optionWeights.length > 0) master.commitLocal({ type: 'weightsSet', weights: [...optionWeights], source: 'options' });
  const weights: WeightEntry[] = [];
  for (const [role, weight] of Object.entries(stored.weights ?? {})) {
    try {
      weights.push({ role: checkRoleName(role, `roles.weights.${role}`), weight: checkWeight(weight, `roles.weights.${role}`) });
    } catch (e) {
      master.logger.warn('registry weight skipped', { role, error: e });
    }
  }
  if (weights.length > 0) master.commitLocal({ type: 'weightsSet', weights, source: 'operator' });
  for (const [role, limits] of Object.entries(stored.quotas ?? {})) {
    try {
      checkRoleName(role, `roles.quotas.${role}`);
      master.commitLocal({ type: 'quotaSet', role, limits: checkQuotaLimits(new Map(Object.entries(limits)), `roles.quotas.${role}`) });
    } catch (e) {
      master.logger.warn('registry quota skipped', { role, error: e });
    }
  }
}
