import type { Constraint } from './app-definition.js';

/** What constraints look at on an agent: its hostname and its attributes as text. */
export interface AgentFacts {
  host: string;
  attributes: Record<string, string>;
}

/** The value of a constraint field on an agent (`hostname` or an attribute), or undefined. */
export function fieldValue(field: string, agent: AgentFacts): string | undefined {
  return field === 'hostname' ? agent.host : agent.attributes[field];
}

function fullMatch(pattern: string, value: string): boolean {
  return new RegExp(`^(?:${pattern})$`).test(value);
}

/** `["hostname","UNIQUE"]` as Marathon prints it: `hostname:UNIQUE`. */
export function constraintText(c: Constraint): string {
  return c.join(':');
}

/**
 * Whether one more instance may go on `agent`, given the agents of the app's other instances
 * (`placed`, one entry per instance) and every value of the field seen on the cluster
 * (`knownValues`, for GROUP_BY). Returns undefined when allowed, else the reason. Pure.
 */
export function checkConstraint(c: Constraint, agent: AgentFacts, placed: readonly AgentFacts[], knownValues: readonly string[] = []): string | undefined {
  const [field, op, param] = c;
  const value = fieldValue(field, agent);
  const where = `${agent.host}${field === 'hostname' ? '' : ` (${field}=${value ?? 'unset'})`}`;
  const text = constraintText(c);
  const count = (v: string | undefined): number => placed.filter((a) => fieldValue(field, a) === v).length;
  switch (op) {
    case 'UNIQUE':
      if (value === undefined) return `${text}: ${agent.host} has no attribute ${field}`;
      return count(value) > 0 ? `${text}: ${where} already runs an instance` : undefined;
    case 'CLUSTER': {
      if (value === undefined) return `${text}: ${agent.host} has no attribute ${field}`;
      const target = param ?? (placed.length > 0 ? fieldValue(field, placed[0]!) : undefined);
      return target === undefined || value === target ? undefined : `${text}: ${where} is not ${target}`;
    }
    case 'IS':
      return value === param ? undefined : `${text}: ${where} is not ${param}`;
    case 'LIKE':
      if (value === undefined) return `${text}: ${agent.host} has no attribute ${field}`;
      return fullMatch(param ?? '', value) ? undefined : `${text}: ${where} does not match ${param}`;
    case 'UNLIKE':
      if (value === undefined) return undefined;
      return fullMatch(param ?? '', value) ? `${text}: ${where} matches ${param}` : undefined;
    case 'MAX_PER': {
      if (value === undefined) return `${text}: ${agent.host} has no attribute ${field}`;
      const max = Number(param);
      return count(value) >= max ? `${text}: ${where} already runs ${max}` : undefined;
    }
    case 'GROUP_BY': {
      if (value === undefined) return `${text}: ${agent.host} has no attribute ${field}`;
      const values = new Set([...knownValues, value, ...placed.map((a) => fieldValue(field, a)).filter((v): v is string => v !== undefined)]);
      const expected = param === undefined ? values.size : Math.max(Number(param), values.size);
      const counts = [...values].map(count);
      // Values not seen yet (fewer than `param` known) count as empty groups.
      const min = counts.length < expected ? 0 : Math.min(...counts);
      return count(value) > min ? `${text}: ${where} has ${count(value)} instances, another group has ${min}` : undefined;
    }
  }
}

/** Every constraint that forbids one more instance on `agent`, as reasons (empty = allowed). */
export function checkConstraints(
  constraints: readonly Constraint[],
  agent: AgentFacts,
  placed: readonly AgentFacts[],
  knownValues: (field: string) => readonly string[] = () => [],
): string[] {
  return constraints.map((c) => checkConstraint(c, agent, placed, knownValues(c[0]))).filter((r): r is string => r !== undefined);
}
