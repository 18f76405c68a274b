import { agentDisplayStatus, type MasterModel } from '../model/model.js';
import { taskStateName } from '../model/task-states.js';
import { ResourceSum } from './resource-sums.js';
import { renderRoleAndUsageMetrics } from './role-metrics.js';

/** Upper bounds (seconds) of the allocation-duration histogram buckets. */
const ALLOCATION_BUCKETS = [0.0005, 0.001, 0.005, 0.01, 0.05, 0.1, 0.5, 1, 5];

/** Prometheus label value escaping. */
function label(value: string): string {
  return value.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n');
}

/** Prometheus text being built. */
export class Lines {
  readonly out: string[] = [];
  metric(name: string, type: 'gauge' | 'counter' | 'histogram', help: string, samples: [Record<string, string>, number][]): void {
    this.out.push(`# HELP ${name} ${help}`, `# TYPE ${name} ${type}`);
    for (const [labels, value] of samples) {
      const text = Object.entries(labels)
        .map(([k, v]) => `${k}="${label(v)}"`)
        .join(',');
      this.out.push(`${name}${text ? `{${text}}` : ''} ${Number.isFinite(value) ? value : 0}`);
    }
  }
}

/** Counters the master keeps; gauges are computed from the model when scraped. */
export class MasterMetrics {
  allocationRuns = 0;
  allocationSecondsSum = 0;
  private readonly allocationBuckets = ALLOCATION_BUCKETS.map(() => 0);
  statusUpdatesForwarded = 0;
  statusUpdatesReceived = 0;
  readonly callsByType = new Map<string, number>();
  readonly errorsByCode = new Map<string, number>();
  /** Test-only fault injection: messages dropped or delayed, by action. */
  readonly faultsByAction = new Map<string, number>();
  /** Reconciliations waiting for a recovering agent (set by the master when scraped). */
  deferredReconciliations = 0;
  /** Kills of tasks waiting for a recovering or away agent (set by the master when scraped). */
  deferredKills = 0;

  /** Cycles known to decide nothing without being computed (inputs unchanged since an empty cycle); counted in `allocationRuns` too. */
  allocationSkipped = 0;

  /** A cycle that was computed, in `seconds`. */
  observeAllocation(seconds: number): void {
    this.allocationRuns++;
    this.allocationSecondsSum += seconds;
    ALLOCATION_BUCKETS.forEach((le, i) => {
      if (seconds <= le) this.allocationBuckets[i] = (this.allocationBuckets[i] ?? 0) + 1;
    });
  }

  /** A cycle that decided nothing because nothing it depends on changed since the last empty one. */
  countSkippedAllocation(): void {
    this.allocationRuns++;
    this.allocationSkipped++;
  }

  countCall(type: string): void {
    this.callsByType.set(type, (this.callsByType.get(type) ?? 0) + 1);
  }

  countFault(action: string): void {
    this.faultsByAction.set(action, (this.faultsByAction.get(action) ?? 0) + 1);
  }

  countError(code: string): void {
    this.errorsByCode.set(code, (this.errorsByCode.get(code) ?? 0) + 1);
  }

  /** Everything in Prometheus text exposition format. */
  render(model: MasterModel): string {
    const l = new Lines();
    const agentsByStatus = new Map<string, number>(
      ['ACTIVE', 'DISCONNECTED', 'UNREACHABLE', 'RECOVERING', 'DRAINING', 'DRAINED', 'DEACTIVATED', 'GONE'].map((s) => [s, 0]),
    );
    for (const a of model.agents.values()) {
      const status = agentDisplayStatus(model, a);
      agentsByStatus.set(status, (agentsByStatus.get(status) ?? 0) + 1);
    }
    agentsByStatus.set('GONE', model.goneAgents.size);
    l.metric('meso_master_agents', 'gauge', 'Agents known to the master, by status.', [...agentsByStatus].map(([status, n]) => [{ status }, n]));
    const fws = [...model.frameworks.values()];
    l.metric('meso_master_frameworks', 'gauge', 'Frameworks known to the master, by state.', [
      [{ state: 'active' }, fws.length],
      [{ state: 'connected' }, fws.filter((f) => f.connected).length],
      [{ state: 'disconnected' }, fws.filter((f) => !f.connected).length],
      [{ state: 'removed' }, model.removedFrameworks.size],
    ]);
    // Counted by state number first (100k tasks: no name per task), then named.
    const byNumber = new Map<number, number>();
    for (const t of model.tasks.values()) byNumber.set(t.state, (byNumber.get(t.state) ?? 0) + 1);
    for (const t of model.completedTasks) byNumber.set(t.state, (byNumber.get(t.state) ?? 0) + 1);
    const tasksByState = new Map<string, number>();
    for (const [state, n] of byNumber) tasksByState.set(taskStateName(state), (tasksByState.get(taskStateName(state)) ?? 0) + n);
    l.metric('meso_master_tasks', 'gauge', 'Tasks (live and recently completed), by state.', [...tasksByState].sort().map(([state, n]) => [{ state }, n]));

    const total = new ResourceSum();
    const used = new ResourceSum();
    const offered = new ResourceSum();
    for (const a of model.agents.values()) {
      if (a.status !== 'ACTIVE') continue;
      total.add(a.total);
      used.add(a.used);
      offered.add(a.offered);
    }
    const names = [...new Set([...total.names(), 'cpus', 'mem', 'disk'])].sort();
    l.metric('meso_master_resources_total', 'gauge', 'Resources of active agents (scalars; ranges count their members).', names.map((name) => [{ resource: name }, total.amount(name)]));
    l.metric('meso_master_resources_used', 'gauge', 'Resources charged to live tasks and executors on active agents.', names.map((name) => [{ resource: name }, used.amount(name)]));
    l.metric('meso_master_resources_offered', 'gauge', 'Resources in outstanding offers.', names.map((name) => [{ resource: name }, offered.amount(name)]));
    l.metric('meso_master_outstanding_offers', 'gauge', 'Offers made and not yet answered.', [[{}, model.offers.size]]);
    l.metric('meso_master_allocation_runs_total', 'counter', 'Allocation cycles run (skipped ones included).', [[{}, this.allocationRuns]]);
    l.metric(
      'meso_master_allocation_skipped_total',
      'counter',
      'Allocation cycles not computed: nothing they depend on (the model, the live filters) changed since a cycle that decided nothing.',
      [[{}, this.allocationSkipped]],
    );
    const computed = this.allocationRuns - this.allocationSkipped;
    l.out.push('# HELP meso_master_allocation_duration_seconds Duration of computed allocation cycles.', '# TYPE meso_master_allocation_duration_seconds histogram');
    ALLOCATION_BUCKETS.forEach((le, i) => l.out.push(`meso_master_allocation_duration_seconds_bucket{le="${le}"} ${this.allocationBuckets[i] ?? 0}`));
    l.out.push(
      `meso_master_allocation_duration_seconds_bucket{le="+Inf"} ${computed}`,
      `meso_master_allocation_duration_seconds_sum ${this.allocationSecondsSum}`,
      `meso_master_allocation_duration_seconds_count ${computed}`,
    );
    l.metric('meso_master_status_updates_received_total', 'counter', 'Status updates received from agents.', [[{}, this.statusUpdatesReceived]]);
    l.metric('meso_master_status_updates_forwarded_total', 'counter', 'Status updates forwarded to frameworks.', [[{}, this.statusUpdatesForwarded]]);
    l.metric('meso_master_calls_total', 'counter', 'Scheduler calls received, by type.', [...this.callsByType].sort().map(([type, n]) => [{ type }, n]));
    l.metric('meso_master_call_errors_total', 'counter', 'Refused calls and registrations, by error code.', [...this.errorsByCode].sort().map(([code, n]) => [{ code }, n]));
    l.metric('meso_master_reconciliations_deferred', 'gauge', 'Explicit reconciliations waiting for an agent to re-register after a master restart.', [[{}, this.deferredReconciliations]]);
    l.metric('meso_master_kills_deferred', 'gauge', 'Kills of tasks waiting for their agent to re-register (after a master restart, or while it is disconnected or unreachable).', [[{}, this.deferredKills]]);
    renderRoleAndUsageMetrics(l, model);
    if (this.faultsByAction.size > 0) {
      l.metric('meso_master_faults_injected_total', 'counter', 'Messages dropped or delayed by test-only fault injection, by action.', [...this.faultsByAction].sort().map(([action, n]) => [{ action }, n]));
    }
    return `${l.out.join('\n')}\n`;
  }
}
