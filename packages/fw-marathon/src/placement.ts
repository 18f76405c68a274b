import { OfferBuilder, SchedulerError, attributeText, parseResources, type HealthCheckSpec, type Offer, type TaskSpec } from './sdk.js';
import type { AppDefinition } from './app-definition.js';
import { checkConstraints, type AgentFacts } from './constraints.js';

/** Instances of one app waiting for resources. */
export interface LaunchRequest {
  app: AppDefinition;
  version: string;
  count: number;
  /** Where the app's live instances run (for constraints). */
  placed: readonly AgentFacts[];
}

/** One instance placed in an offer. */
export interface PlannedLaunch {
  appId: string;
  version: string;
  spec: TaskSpec;
  facts: AgentFacts;
}

/** What `placeInstances` decided. */
export interface PlacementResult {
  /** Offers used, with the instances each takes (launch them in one call per offer). */
  launches: { offer: Offer; tasks: PlannedLaunch[] }[];
  /** Offers nothing was placed in (decline them). */
  unused: Offer[];
  /** Per app still short of instances: why the offers did not take them. */
  blocked: Map<string, string>;
}

/** The agent facts of an offer: hostname and attributes as text. */
export function factsOf(offer: Offer): AgentFacts {
  const attributes: Record<string, string> = {};
  for (const a of offer.attributes) attributes[a.name] = attributeText(a);
  return { host: offer.hostname, attributes };
}

/** The executor-side health check of an app (its first one), in the SDK's terms. */
export function healthCheckSpec(app: AppDefinition): HealthCheckSpec | undefined {
  const hc = app.healthChecks[0];
  if (!hc) return undefined;
  const common = {
    delaySeconds: hc.delaySeconds,
    intervalSeconds: hc.intervalSeconds,
    timeoutSeconds: hc.timeoutSeconds,
    consecutiveFailures: hc.maxConsecutiveFailures,
    gracePeriodSeconds: hc.gracePeriodSeconds,
  };
  const port = hc.port !== undefined ? { port: hc.port } : { portIndex: hc.portIndex ?? 0 };
  if (hc.protocol === 'COMMAND') return { type: 'command', command: { shell: hc.command?.value ?? 'true' }, ...common };
  if (hc.protocol.endsWith('TCP')) return { type: 'tcp', ...port, ...common };
  return { type: 'http', ...port, path: hc.path ?? '/', ...common };
}

/** The host ports an app must get exactly (`requirePorts`), else undefined (any ports). */
export function fixedPorts(app: AppDefinition): number[] | undefined {
  return app.requirePorts && app.portDefinitions.length > 0 ? app.portDefinitions.map((p) => p.port) : undefined;
}

/** The SDK task of one instance of an app. */
export function taskSpecFor(app: AppDefinition, version: string, taskId: string, host: string): TaskSpec {
  const env: Record<string, string> = { ...app.env, MARATHON_APP_ID: app.id, MARATHON_APP_VERSION: version, MESOS_TASK_ID: taskId, HOST: host };
  const scalars: Record<string, number> = { cpus: app.cpus, mem: app.mem };
  if (app.disk > 0) scalars['disk'] = app.disk;
  if (app.gpus > 0) scalars['gpus'] = app.gpus;
  const fixed = fixedPorts(app);
  // requirePorts: ask for exactly these host ports (unreserved), and say them as PORT0..n ourselves.
  const resources = fixed
    ? parseResources([...Object.entries(scalars).map(([k, v]) => `${k}:${v}`), `ports:[${fixed.map((p) => `${p}-${p}`).join(',')}]`].join(';'))
    : scalars;
  if (fixed) {
    fixed.forEach((p, i) => (env[`PORT${i}`] = String(p)));
    env['PORTS'] = fixed.join(',');
  }
  const spec: TaskSpec = {
    taskId,
    name: app.id.slice(1).split('/').reverse().join('.'),
    resources,
    ports: fixed ? 0 : app.portDefinitions.length,
    command: app.cmd !== undefined ? { shell: app.cmd, env } : { argv: app.args ?? ['true'], env },
    labels: { ...app.labels, MARATHON_APP_ID: app.id, MARATHON_APP_VERSION: version },
  };
  if (app.user !== undefined && spec.command) spec.command.user = app.user;
  if (app.taskKillGracePeriodSeconds !== undefined) spec.killGracePeriodSeconds = app.taskKillGracePeriodSeconds;
  const hc = healthCheckSpec(app);
  if (hc) spec.healthCheck = hc;
  return spec;
}

/** A task id as Marathon makes them: the app path with dots, a dot, a unique suffix. */
export function newTaskId(appId: string, unique: string): string {
  return `${appId.slice(1).replaceAll('/', '_')}.${unique}`;
}

/**
 * Places waiting instances into offers: as many as fit per offer (resources and constraints,
 * counting instances placed earlier in this round), apps in the order given. Pure but for
 * `makeTaskId`. Says, per app left short, why each offer refused it.
 */
export function placeInstances(
  offers: readonly Offer[],
  requests: readonly LaunchRequest[],
  makeTaskId: (appId: string) => string,
  knownValues: (field: string) => readonly string[] = () => [],
  maxPerOffer = 1000,
): PlacementResult {
  const left = new Map(requests.map((r) => [r.app.id, r.count]));
  const placedSoFar = new Map(requests.map((r) => [r.app.id, [...r.placed]]));
  const reasons = new Map<string, string[]>();
  const launches: PlacementResult['launches'] = [];
  const unused: Offer[] = [];
  const refuse = (appId: string, why: string): void => {
    const list = reasons.get(appId) ?? [];
    if (list.length < 5) list.push(why);
    reasons.set(appId, list);
  };
  for (const offer of offers) {
    const builder = new OfferBuilder(offer);
    const facts = factsOf(offer);
    const tasks: PlannedLaunch[] = [];
    for (const r of requests) {
      const roles = r.app.acceptedResourceRoles;
      if (roles && roles.length > 0 && !roles.includes(offer.role)) {
        if ((left.get(r.app.id) ?? 0) > 0) refuse(r.app.id, `${offer.hostname}: role ${offer.role} not in acceptedResourceRoles`);
        continue;
      }
      while ((left.get(r.app.id) ?? 0) > 0 && tasks.length < maxPerOffer) {
        const placed = placedSoFar.get(r.app.id)!;
        const why = checkConstraints(r.app.constraints, facts, placed, knownValues);
        if (why.length > 0) {
          refuse(r.app.id, `${offer.hostname}: ${why.join('; ')}`);
          break;
        }
        const spec = taskSpecFor(r.app, r.version, makeTaskId(r.app.id), offer.hostname);
        try {
          builder.add(spec);
        } catch (e) {
          if (!(e instanceof SchedulerError)) throw e;
          refuse(r.app.id, `${offer.hostname}: ${e.message.replace(/^task \S+ does not fit in offer \S+ on \S+: /, 'not enough resources: ')}`);
          break;
        }
        tasks.push({ appId: r.app.id, version: r.version, spec, facts });
        placed.push(facts);
        left.set(r.app.id, (left.get(r.app.id) ?? 0) - 1);
      }
    }
    if (tasks.length > 0) launches.push({ offer, tasks });
    else unused.push(offer);
  }
  const blocked = new Map<string, string>();
  for (const r of requests) {
    const short = left.get(r.app.id) ?? 0;
    if (short <= 0) continue;
    const why = reasons.get(r.app.id);
    blocked.set(r.app.id, why ? `no offer fits ${short} instance(s): ${why.join(' | ')}` : `waiting for offers for ${short} instance(s)`);
  }
  return { launches, unused, blocked };
}
