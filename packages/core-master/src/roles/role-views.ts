import { Resources, UNRESERVED_ROLE } from '@meso/proto';
import type { MasterModel } from '../model/model.js';

/** One role as operators see it (GET /roles, GetRoles, `meso roles`). */
export interface RoleView {
  name: string;
  /** 1 when none was set. */
  weight: number;
  /** Undefined: no quota. */
  quota: Resources | undefined;
  /** Held by the role's tasks, executors and outstanding offers. */
  allocated: Resources;
  /** Charged to the role's tasks and executors (what a quota may not go below). */
  used: Resources;
  /** Reserved for the role on the agents the master knows. */
  reserved: Resources;
  /** Frameworks subscribed with the role, sorted. */
  frameworks: string[];
}

/** What the role's tasks and executors are charged, over every framework. */
export function roleUsed(model: MasterModel, role: string): Resources {
  let used = Resources.empty();
  for (const f of model.frameworks.values()) {
    const r = f.used.get(role);
    if (r) used = used.add(r);
  }
  return used;
}

/** Every role the master knows: of frameworks, weights, quotas, allocations and reservations. */
export function knownRoles(model: MasterModel): string[] {
  const roles = new Set<string>([...model.weights.keys(), ...model.quotas.keys()]);
  for (const f of model.frameworks.values()) {
    for (const role of f.info.roles) roles.add(role);
    for (const role of f.used.keys()) roles.add(role);
    for (const role of f.offered.keys()) roles.add(role);
  }
  for (const a of model.agents.values()) for (const r of a.total.toList()) if (r.role !== UNRESERVED_ROLE) roles.add(r.role);
  roles.delete(UNRESERVED_ROLE);
  return [...roles].sort();
}

/** A read-only summary of every known role. */
export function roleViews(model: MasterModel): RoleView[] {
  const views = new Map<string, RoleView>(
    knownRoles(model).map((name) => [
      name,
      {
        name,
        weight: model.weights.get(name)?.weight ?? 1,
        quota: model.quotas.get(name),
        allocated: Resources.empty(),
        used: Resources.empty(),
        reserved: Resources.empty(),
        frameworks: [],
      },
    ]),
  );
  for (const f of model.frameworks.values()) {
    for (const role of f.info.roles) views.get(role)?.frameworks.push(f.id);
    for (const [role, r] of f.used) {
      const v = views.get(role);
      if (v) {
        v.used = v.used.add(r);
        v.allocated = v.allocated.add(r);
      }
    }
    for (const [role, r] of f.offered) {
      const v = views.get(role);
      if (v) v.allocated = v.allocated.add(r);
    }
  }
  for (const a of model.agents.values()) {
    for (const r of a.total.toList()) {
      const v = r.role === UNRESERVED_ROLE ? undefined : views.get(r.role);
      if (v) v.reserved = v.reserved.add(Resources.of([r]));
    }
  }
  for (const v of views.values()) v.frameworks.sort();
  return [...views.values()];
}
