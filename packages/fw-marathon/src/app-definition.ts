import { MarathonError, type ValidationDetail } from './errors.js';

/** A placement rule: `[field, operator, value?]`, field `hostname` or an agent attribute name. */
export type Constraint = [string, ConstraintOperator] | [string, ConstraintOperator, string];
/** Marathon's constraint operators. */
export type ConstraintOperator = 'UNIQUE' | 'CLUSTER' | 'GROUP_BY' | 'LIKE' | 'UNLIKE' | 'MAX_PER' | 'IS';
/** Every constraint operator, in Marathon's documentation order. */
export const CONSTRAINT_OPERATORS: readonly ConstraintOperator[] = ['UNIQUE', 'CLUSTER', 'GROUP_BY', 'LIKE', 'UNLIKE', 'MAX_PER', 'IS'];

/** A host port the app asks for (`port: 0` = any port the offer has). */
export interface PortDefinition {
  port: number;
  name?: string;
  protocol: string;
  labels?: Record<string, string>;
}

/** A health check, run by the executor on the agent (never by fw-marathon). */
export interface HealthCheck {
  protocol: 'HTTP' | 'HTTPS' | 'TCP' | 'COMMAND' | 'MESOS_HTTP' | 'MESOS_HTTPS' | 'MESOS_TCP';
  path?: string;
  portIndex?: number;
  port?: number;
  command?: { value: string };
  gracePeriodSeconds: number;
  intervalSeconds: number;
  timeoutSeconds: number;
  maxConsecutiveFailures: number;
  delaySeconds: number;
}

/** Marathon's single readiness check (accepted and echoed; see the README on enforcement). */
export interface ReadinessCheck {
  name: string;
  protocol: 'HTTP' | 'HTTPS';
  path: string;
  portName: string;
  intervalSeconds: number;
  timeoutSeconds: number;
  httpStatusCodesForReady: number[];
  preserveLastResponse: boolean;
}

/** How a rolling upgrade may move: the healthy floor and the capacity ceiling, as fractions of `instances`. */
export interface UpgradeStrategy {
  minimumHealthCapacity: number;
  maximumOverCapacity: number;
}

/** What to do with tasks on an unreachable agent (`disabled`: wait for them). */
export type UnreachableStrategy = { inactiveAfterSeconds: number; expungeAfterSeconds: number } | 'disabled';
/** Which tasks go first when an app scales down. */
export type KillSelection = 'YOUNGEST_FIRST' | 'OLDEST_FIRST';

/** A Marathon app definition with every default filled (what `normalizeApp` returns). */
export interface AppDefinition {
  id: string;
  cmd?: string;
  args?: string[];
  user?: string;
  cpus: number;
  mem: number;
  disk: number;
  gpus: number;
  instances: number;
  env: Record<string, string>;
  labels: Record<string, string>;
  constraints: Constraint[];
  portDefinitions: PortDefinition[];
  requirePorts: boolean;
  healthChecks: HealthCheck[];
  readinessChecks: ReadinessCheck[];
  upgradeStrategy: UpgradeStrategy;
  backoffSeconds: number;
  backoffFactor: number;
  maxLaunchDelaySeconds: number;
  killSelection: KillSelection;
  unreachableStrategy: UnreachableStrategy;
  dependencies: string[];
  taskKillGracePeriodSeconds?: number;
  acceptedResourceRoles?: string[];
  role?: string;
  /** Fields fw-marathon does not interpret (container, fetch, ...), kept and echoed as given. */
  extra: Record<string, unknown>;
}

/** Marathon's defaults for the optional fields of an app. */
export const APP_DEFAULTS = {
  cpus: 1,
  mem: 128,
  disk: 0,
  gpus: 0,
  instances: 1,
  requirePorts: false,
  upgradeStrategy: { minimumHealthCapacity: 1, maximumOverCapacity: 1 },
  backoffSeconds: 1,
  backoffFactor: 1.15,
  maxLaunchDelaySeconds: 300,
  killSelection: 'YOUNGEST_FIRST' as KillSelection,
  unreachableStrategy: { inactiveAfterSeconds: 0, expungeAfterSeconds: 0 },
  healthCheck: { gracePeriodSeconds: 300, intervalSeconds: 60, timeoutSeconds: 20, maxConsecutiveFailures: 3, delaySeconds: 15, portIndex: 0 },
  portDefinitions: [{ port: 0, protocol: 'tcp', name: 'default' }] as PortDefinition[],
} as const;

/** Fields only the server sets; ignored in requests (clients send GET output back). */
const READ_ONLY = new Set([
  'version', 'versionInfo', 'tasksStaged', 'tasksRunning', 'tasksHealthy', 'tasksUnhealthy', 'deployments', 'tasks',
  'lastTaskFailure', 'taskStats', 'readinessCheckResults', 'counts',
]);
const KNOWN = new Set([
  'id', 'cmd', 'args', 'user', 'cpus', 'mem', 'disk', 'gpus', 'instances', 'env', 'labels', 'constraints', 'portDefinitions',
  'ports', 'requirePorts', 'healthChecks', 'readinessChecks', 'upgradeStrategy', 'backoffSeconds', 'backoffFactor',
  'maxLaunchDelaySeconds', 'killSelection', 'unreachableStrategy', 'dependencies', 'taskKillGracePeriodSeconds',
  'acceptedResourceRoles', 'role',
]);

const SEGMENT = /^(([a-z0-9]|[a-z0-9][a-z0-9-]*[a-z0-9])\.)*([a-z0-9]|[a-z0-9][a-z0-9-]*[a-z0-9])$/;

/** Makes an app or group id absolute (`web` → `/web`, relative to `base`), resolving `.` and `..`. */
export function absoluteId(id: string, base = '/'): string {
  const parts = (id.startsWith('/') ? id : `${base.replace(/\/$/, '')}/${id}`).split('/');
  const out: string[] = [];
  for (const p of parts) {
    if (p === '' || p === '.') continue;
    if (p === '..') out.pop();
    else out.push(p);
  }
  return `/${out.join('/')}`;
}

/** Collects validation details while reading an untrusted object. */
class Checker {
  readonly details: ValidationDetail[] = [];
  fail(path: string, error: string): undefined {
    const d = this.details.find((x) => x.path === path);
    if (d) d.errors.push(error);
    else this.details.push({ path, errors: [error] });
    return undefined;
  }
  number(v: unknown, path: string, opts: { min?: number; max?: number; integer?: boolean } = {}): number | undefined {
    if (typeof v !== 'number' || !Number.isFinite(v)) return this.fail(path, `expected a number, got ${typeOf(v)}`);
    if (opts.integer && !Number.isInteger(v)) return this.fail(path, 'must be an integer');
    if (opts.min !== undefined && v < opts.min) return this.fail(path, `must be greater than or equal to ${opts.min}`);
    if (opts.max !== undefined && v > opts.max) return this.fail(path, `must be less than or equal to ${opts.max}`);
    return v;
  }
  string(v: unknown, path: string, nonEmpty = false): string | undefined {
    if (typeof v !== 'string') return this.fail(path, `expected a string, got ${typeOf(v)}`);
    if (nonEmpty && v.length === 0) return this.fail(path, 'must not be empty');
    return v;
  }
  bool(v: unknown, path: string): boolean | undefined {
    if (typeof v !== 'boolean') return this.fail(path, `expected a boolean, got ${typeOf(v)}`);
    return v;
  }
  stringMap(v: unknown, path: string): Record<string, string> | undefined {
    if (!isObject(v)) return this.fail(path, `expected an object, got ${typeOf(v)}`);
    const out: Record<string, string> = {};
    for (const [k, x] of Object.entries(v)) {
      // Marathon allows env secrets as objects; we take plain strings only.
      const s = this.string(x, `${path}/${k}`);
      if (s !== undefined) out[k] = s;
    }
    return out;
  }
  stringList(v: unknown, path: string): string[] | undefined {
    if (!Array.isArray(v)) return this.fail(path, `expected an array, got ${typeOf(v)}`);
    const out: string[] = [];
    v.forEach((x, i) => {
      const s = this.string(x, `${path}(${i})`);
      if (s !== undefined) out.push(s);
    });
    return out;
  }
}

function typeOf(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'an array';
  return typeof v === 'object' ? 'an object' : `${typeof v} ${JSON.stringify(v)}`;
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function validateConstraint(c: Checker, raw: unknown, path: string): Constraint | undefined {
  if (!Array.isArray(raw) || raw.length < 2 || raw.length > 3 || raw.some((x) => typeof x !== 'string')) {
    return c.fail(path, 'a constraint is [field, operator] or [field, operator, value] of strings');
  }
  const [field, op, value] = raw as string[];
  if (!field) return c.fail(path, 'the field must not be empty');
  const operator = op!.toUpperCase() as ConstraintOperator;
  if (!CONSTRAINT_OPERATORS.includes(operator)) {
    return c.fail(path, `unknown operator ${op}; one of ${CONSTRAINT_OPERATORS.join(', ')}`);
  }
  switch (operator) {
    case 'UNIQUE':
      if (value !== undefined) return c.fail(path, 'UNIQUE takes no value');
      break;
    case 'LIKE':
    case 'UNLIKE':
      if (value === undefined) return c.fail(path, `${operator} needs a regular expression`);
      try {
        new RegExp(`^(?:${value})$`);
      } catch {
        return c.fail(path, `'${value}' is not a valid regular expression`);
      }
      break;
    case 'MAX_PER':
      if (value === undefined || !/^[1-9]\d*$/.test(value)) return c.fail(path, 'MAX_PER needs a positive integer value');
      break;
    case 'GROUP_BY':
      if (value !== undefined && !/^[1-9]\d*$/.test(value)) return c.fail(path, 'GROUP_BY takes an optional positive integer');
      break;
    case 'IS':
      if (value === undefined || value === '') return c.fail(path, 'IS needs a value');
      break;
    case 'CLUSTER':
      if (value === '') return c.fail(path, 'CLUSTER value must not be empty');
      break;
  }
  return value === undefined ? [field, operator] : [field, operator, value];
}

function validateHealthCheck(c: Checker, raw: unknown, path: string, portCount: number): HealthCheck | undefined {
  if (!isObject(raw)) return c.fail(path, 'expected an object');
  const d = APP_DEFAULTS.healthCheck;
  const protocols = ['HTTP', 'HTTPS', 'TCP', 'COMMAND', 'MESOS_HTTP', 'MESOS_HTTPS', 'MESOS_TCP'];
  const protocol = (raw['protocol'] ?? 'HTTP') as HealthCheck['protocol'];
  if (!protocols.includes(protocol)) return c.fail(`${path}/protocol`, `one of ${protocols.join(', ')}`);
  const hc: HealthCheck = {
    protocol,
    gracePeriodSeconds: c.number(raw['gracePeriodSeconds'] ?? d.gracePeriodSeconds, `${path}/gracePeriodSeconds`, { min: 0 }) ?? 0,
    intervalSeconds: c.number(raw['intervalSeconds'] ?? d.intervalSeconds, `${path}/intervalSeconds`, { min: 1 }) ?? 1,
    timeoutSeconds: c.number(raw['timeoutSeconds'] ?? d.timeoutSeconds, `${path}/timeoutSeconds`, { min: 1 }) ?? 1,
    maxConsecutiveFailures: c.number(raw['maxConsecutiveFailures'] ?? d.maxConsecutiveFailures, `${path}/maxConsecutiveFailures`, { min: 0, integer: true }) ?? 0,
    delaySeconds: c.number(raw['delaySeconds'] ?? d.delaySeconds, `${path}/delaySeconds`, { min: 0 }) ?? 0,
  };
  if (protocol === 'COMMAND') {
    const cmd = raw['command'];
    const value = isObject(cmd) ? c.string(cmd['value'], `${path}/command/value`, true) : c.fail(`${path}/command`, 'COMMAND health checks need command.value');
    if (value !== undefined) hc.command = { value };
    return hc;
  }
  if (protocol.endsWith('HTTP') || protocol.endsWith('HTTPS')) {
    hc.path = raw['path'] === undefined ? '/' : c.string(raw['path'], `${path}/path`) ?? '/';
  }
  if (raw['port'] !== undefined) {
    hc.port = c.number(raw['port'], `${path}/port`, { min: 1, max: 65535, integer: true }) ?? 0;
  } else {
    const portIndex = c.number(raw['portIndex'] ?? d.portIndex, `${path}/portIndex`, { min: 0, integer: true });
    if (portIndex !== undefined) {
      if (portIndex >= portCount) c.fail(`${path}/portIndex`, `no port definition at index ${portIndex} (the app has ${portCount})`);
      hc.portIndex = portIndex;
    }
  }
  return hc;
}

function validateReadiness(c: Checker, raw: unknown, path: string, ports: PortDefinition[]): ReadinessCheck | undefined {
  if (!isObject(raw)) return c.fail(path, 'expected an object');
  const portName = c.string(raw['portName'] ?? 'http-api', `${path}/portName`) ?? '';
  if (!ports.some((p) => p.name === portName)) c.fail(`${path}/portName`, `no port definition named '${portName}'`);
  const codes = raw['httpStatusCodesForReady'] ?? [200];
  if (!Array.isArray(codes) || codes.some((x) => typeof x !== 'number')) c.fail(`${path}/httpStatusCodesForReady`, 'expected an array of status codes');
  return {
    name: c.string(raw['name'] ?? 'readinessCheck', `${path}/name`) ?? '',
    protocol: raw['protocol'] === 'HTTPS' ? 'HTTPS' : 'HTTP',
    path: c.string(raw['path'] ?? '/', `${path}/path`) ?? '/',
    portName,
    intervalSeconds: c.number(raw['intervalSeconds'] ?? 30, `${path}/intervalSeconds`, { min: 1 }) ?? 30,
    timeoutSeconds: c.number(raw['timeoutSeconds'] ?? 10, `${path}/timeoutSeconds`, { min: 1 }) ?? 10,
    httpStatusCodesForReady: Array.isArray(codes) ? (codes as number[]) : [200],
    preserveLastResponse: raw['preserveLastResponse'] === true,
  };
}

function validatePorts(c: Checker, raw: Record<string, unknown>): PortDefinition[] {
  if (raw['portDefinitions'] !== undefined && raw['ports'] !== undefined) {
    c.fail('/', "'ports' and 'portDefinitions' cannot be used together");
  }
  let defs: PortDefinition[];
  if (raw['portDefinitions'] !== undefined) {
    if (!Array.isArray(raw['portDefinitions'])) {
      c.fail('/portDefinitions', `expected an array, got ${typeOf(raw['portDefinitions'])}`);
      return [];
    }
    defs = (raw['portDefinitions'] as unknown[]).map((p, i) => {
      const path = `/portDefinitions(${i})`;
      if (!isObject(p)) return c.fail(path, 'expected an object') ?? { port: 0, protocol: 'tcp' };
      const def: PortDefinition = {
        port: c.number(p['port'] ?? 0, `${path}/port`, { min: 0, max: 65535, integer: true }) ?? 0,
        protocol: c.string(p['protocol'] ?? 'tcp', `${path}/protocol`) ?? 'tcp',
      };
      if (p['name'] !== undefined) def.name = c.string(p['name'], `${path}/name`) ?? '';
      if (p['labels'] !== undefined) def.labels = c.stringMap(p['labels'], `${path}/labels`) ?? {};
      return def;
    });
  } else if (raw['ports'] !== undefined) {
    defs = (Array.isArray(raw["ports"]) ? (raw['ports'] as unknown[]) : (c.fail('/ports', 'expected an array') ?? [])).map(
      (p, i) => ({ port: c.number(p, `/ports(${i})`, { min: 0, max: 65535, integer: true }) ?? 0, protocol: 'tcp' }),
    );
  } else {
    defs = APP_DEFAULTS.portDefinitions.map((p) => ({ ...p }));
  }
  const seen = new Map<number, number>();
  defs.forEach((d, i) => {
    if (d.port === 0) return;
    const prev = seen.get(d.port);
    if (prev !== undefined) c.fail(`/portDefinitions(${i})/port`, `port ${d.port} clashes with portDefinitions(${prev}); host ports must be unique`);
    seen.set(d.port, i);
  });
  const names = new Set<string>();
  defs.forEach((d, i) => {
    if (d.name === undefined) return;
    if (names.has(d.name)) c.fail(`/portDefinitions(${i})/name`, `port name '${d.name}' is used twice`);
    names.add(d.name);
  });
  return defs;
}

/**
 * Validates an app definition from a request body and fills Marathon's defaults. Pure.
 * Throws MarathonError INVALID_OBJECT (HTTP 422) whose `details` name each bad field by JSON
 * path, as Marathon does. `pathId` (from the URL) wins over the body's `id`.
 */
export function normalizeApp(input: unknown, options: { pathId?: string; base?: string } = {}): AppDefinition {
  const c = new Checker();
  if (!isObject(input)) throw new MarathonError('INVALID_OBJECT', 'Object is not valid', { details: [{ path: '/', errors: ['expected a JSON object'] }] });
  // Marathon writes absent optional fields as null (`"user": null`); read them as absent.
  const raw = Object.fromEntries(Object.entries(input).filter(([, v]) => v !== null));
  const idRaw = options.pathId ?? raw['id'];
  let id = '/';
  if (idRaw === undefined) c.fail('/id', 'is required');
  else {
    const s = c.string(idRaw, '/id', true);
    if (s !== undefined) {
      id = absoluteId(s, options.base);
      const bad = id.split('/').slice(1).find((seg) => !SEGMENT.test(seg));
      if (id === '/' || bad !== undefined) {
        c.fail('/id', `'${s}' is not a valid path: segments of lowercase letters, digits, '-' and '.', e.g. /prod/web`);
      }
    }
  }
  const cmd = raw['cmd'] === undefined || raw['cmd'] === null ? undefined : c.string(raw['cmd'], '/cmd', true);
  const args = raw['args'] === undefined || raw['args'] === null ? undefined : c.stringList(raw['args'], '/args');
  const hasContainer = isObject(raw['container']);
  if (raw['cmd'] != null && raw['args'] != null) c.fail('/', "AppDefinition must either contain one of 'cmd' or 'args', not both");
  else if (raw['cmd'] == null && raw['args'] == null && !hasContainer) c.fail('/', "AppDefinition must either contain one of 'cmd' or 'args', and/or a 'container'");
  const num = (field: 'cpus' | 'mem' | 'disk' | 'gpus', min: number): number => c.number(raw[field] ?? APP_DEFAULTS[field], `/${field}`, { min }) ?? 0;
  const portDefinitions = validatePorts(c, raw);
  const requirePorts = raw['requirePorts'] === undefined ? false : c.bool(raw['requirePorts'], '/requirePorts') ?? false;
  if (requirePorts) {
    portDefinitions.forEach((p, i) => {
      if (p.port === 0) c.fail(`/portDefinitions(${i})/port`, 'requirePorts needs fixed (non-zero) host ports');
    });
  }
  const constraints: Constraint[] = [];
  if (raw['constraints'] !== undefined) {
    if (!Array.isArray(raw['constraints'])) c.fail('/constraints', `expected an array, got ${typeOf(raw['constraints'])}`);
    else (raw['constraints'] as unknown[]).forEach((x, i) => {
      const k = validateConstraint(c, x, `/constraints(${i})`);
      if (k) constraints.push(k);
    });
  }
  const healthChecks: HealthCheck[] = [];
  if (raw['healthChecks'] !== undefined) {
    if (!Array.isArray(raw['healthChecks'])) c.fail('/healthChecks', 'expected an array');
    else (raw['healthChecks'] as unknown[]).forEach((x, i) => {
      const hc = validateHealthCheck(c, x, `/healthChecks(${i})`, portDefinitions.length);
      if (hc) healthChecks.push(hc);
    });
  }
  const readinessChecks: ReadinessCheck[] = [];
  if (raw['readinessChecks'] !== undefined) {
    if (!Array.isArray(raw['readinessChecks'])) c.fail('/readinessChecks', 'expected an array');
    else if (raw['readinessChecks'].length > 1) c.fail('/readinessChecks', 'only one readiness check is supported');
    else (raw['readinessChecks'] as unknown[]).forEach((x, i) => {
      const rc = validateReadiness(c, x, `/readinessChecks(${i})`, portDefinitions);
      if (rc) readinessChecks.push(rc);
    });
  }
  const us = raw['upgradeStrategy'] ?? {};
  let upgradeStrategy: UpgradeStrategy = { ...APP_DEFAULTS.upgradeStrategy };
  if (!isObject(us)) c.fail('/upgradeStrategy', 'expected an object');
  else {
    upgradeStrategy = {
      minimumHealthCapacity: c.number(us['minimumHealthCapacity'] ?? 1, '/upgradeStrategy/minimumHealthCapacity', { min: 0, max: 1 }) ?? 1,
      maximumOverCapacity: c.number(us['maximumOverCapacity'] ?? 1, '/upgradeStrategy/maximumOverCapacity', { min: 0, max: 1 }) ?? 1,
    };
  }
  let killSelection: KillSelection = APP_DEFAULTS.killSelection;
  if (raw['killSelection'] !== undefined) {
    if (raw['killSelection'] !== 'YOUNGEST_FIRST' && raw['killSelection'] !== 'OLDEST_FIRST') c.fail('/killSelection', 'one of YOUNGEST_FIRST, OLDEST_FIRST');
    else killSelection = raw['killSelection'];
  }
  let unreachableStrategy: UnreachableStrategy = { ...APP_DEFAULTS.unreachableStrategy };
  const ur = raw['unreachableStrategy'];
  if (ur === 'disabled') unreachableStrategy = 'disabled';
  else if (ur !== undefined) {
    if (!isObject(ur)) c.fail('/unreachableStrategy', "expected an object or 'disabled'");
    else {
      const inactive = c.number(ur['inactiveAfterSeconds'] ?? 0, '/unreachableStrategy/inactiveAfterSeconds', { min: 0 }) ?? 0;
      const expunge = c.number(ur['expungeAfterSeconds'] ?? 0, '/unreachableStrategy/expungeAfterSeconds', { min: 0 }) ?? 0;
      if (expunge < inactive) c.fail('/unreachableStrategy/expungeAfterSeconds', 'must be greater than or equal to inactiveAfterSeconds');
      unreachableStrategy = { inactiveAfterSeconds: inactive, expungeAfterSeconds: expunge };
    }
  }
  const dependencies = raw['dependencies'] === undefined ? [] : (c.stringList(raw['dependencies'], '/dependencies') ?? []).map((d) => absoluteId(d, parentOf(id)));
  if (dependencies.includes(id)) c.fail('/dependencies', 'an app cannot depend on itself');
  const app: AppDefinition = {
    id,
    cpus: num('cpus', 0),
    mem: num('mem', 0),
    disk: num('disk', 0),
    gpus: c.number(raw['gpus'] ?? 0, '/gpus', { min: 0, integer: true }) ?? 0,
    instances: c.number(raw['instances'] ?? APP_DEFAULTS.instances, '/instances', { min: 0, integer: true }) ?? 0,
    env: raw['env'] === undefined ? {} : c.stringMap(raw['env'], '/env') ?? {},
    labels: raw['labels'] === undefined ? {} : c.stringMap(raw['labels'], '/labels') ?? {},
    constraints,
    portDefinitions,
    requirePorts,
    healthChecks,
    readinessChecks,
    upgradeStrategy,
    backoffSeconds: c.number(raw['backoffSeconds'] ?? APP_DEFAULTS.backoffSeconds, '/backoffSeconds', { min: 0 }) ?? 0,
    backoffFactor: c.number(raw['backoffFactor'] ?? APP_DEFAULTS.backoffFactor, '/backoffFactor', { min: 1 }) ?? 1,
    maxLaunchDelaySeconds: c.number(raw['maxLaunchDelaySeconds'] ?? APP_DEFAULTS.maxLaunchDelaySeconds, '/maxLaunchDelaySeconds', { min: 0 }) ?? 0,
    killSelection,
    unreachableStrategy,
    dependencies,
    extra: {},
  };
  if (cmd !== undefined) app.cmd = cmd;
  if (args !== undefined) app.args = args;
  if (raw['user'] !== undefined) app.user = c.string(raw['user'], '/user', true) ?? '';
  if (raw['taskKillGracePeriodSeconds'] != null) app.taskKillGracePeriodSeconds = c.number(raw['taskKillGracePeriodSeconds'], '/taskKillGracePeriodSeconds', { min: 0 }) ?? 0;
  if (raw['acceptedResourceRoles'] !== undefined) app.acceptedResourceRoles = c.stringList(raw['acceptedResourceRoles'], '/acceptedResourceRoles') ?? [];
  if (raw['role'] !== undefined) app.role = c.string(raw['role'], '/role', true) ?? '';
  if (app.cpus === 0 && app.mem === 0 && c.details.length === 0) c.fail('/', 'an app must ask for some cpus or mem');
  for (const [k, v] of Object.entries(raw)) if (!KNOWN.has(k) && !READ_ONLY.has(k)) app.extra[k] = v;
  if (c.details.length > 0) throw new MarathonError('INVALID_OBJECT', 'Object is not valid', { details: c.details });
  return app;
}

/** `/prod/web` → `/prod`; `/web` → `/`. */
export function parentOf(id: string): string {
  const i = id.lastIndexOf('/');
  return i <= 0 ? '/' : id.slice(0, i);
}

/**
 * Applies a PATCH body (Marathon merges top-level fields) to a current definition and
 * validates the result.
 */
export function patchApp(current: AppDefinition, patch: unknown): AppDefinition {
  if (!isObject(patch)) throw new MarathonError('INVALID_OBJECT', 'Object is not valid', { details: [{ path: '/', errors: ['expected a JSON object'] }] });
  const base = appToJson(current);
  const merged: Record<string, unknown> = { ...base, ...patch, id: current.id };
  if (patch['args'] !== undefined && patch['cmd'] === undefined) delete merged['cmd'];
  if (patch['cmd'] !== undefined && patch['args'] === undefined) delete merged['args'];
  return normalizeApp(merged);
}

/** The definition as Marathon JSON (without the read-only status fields). */
export function appToJson(app: AppDefinition): Record<string, unknown> {
  const { extra, ...rest } = app;
  const out: Record<string, unknown> = { ...rest, ...extra };
  if (app.cmd === undefined) out['cmd'] = null;
  if (app.args === undefined) out['args'] = null;
  return out;
}

/** Whether two definitions differ in anything but `instances` (a change needs a restart). */
export function needsRestart(a: AppDefinition, b: AppDefinition): boolean {
  return JSON.stringify({ ...a, instances: 0 }) !== JSON.stringify({ ...b, instances: 0 });
}
