/** The value at percentile `p` (0-100) of `values` by nearest rank; undefined when empty. */
export function percentile(values: readonly number[], p: number): number | undefined {
  if (values.length === 0) return undefined;
  const sorted = [...values].sort((a, b) => a - b);
  const rank = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[rank];
}

/** A bounded window of the latest samples. */
export class SampleWindow {
  private readonly samples: number[] = [];
  constructor(private readonly size = 1000) {}
  add(value: number): void {
    this.samples.push(value);
    if (this.samples.length > this.size) this.samples.shift();
  }
  values(): readonly number[] {
    return this.samples;
  }
}

/** Counters and windows behind `/metrics` (Prometheus text format). */
export class ChronosMetrics {
  /** Lateness (scheduled time → TASK_RUNNING) of scheduled runs, ms, all jobs. */
  readonly lateness = new SampleWindow(10_000);
  readonly latenessByJob = new Map<string, SampleWindow>();
  readonly counters = { runsStarted: 0, runsSucceeded: 0, runsFailed: 0, attemptsFailed: 0, runsSkipped: 0, retries: 0, launches: 0, revives: 0, suppresses: 0 };

  recordLateness(job: string, ms: number): void {
    this.lateness.add(ms);
    let w = this.latenessByJob.get(job);
    if (!w) this.latenessByJob.set(job, (w = new SampleWindow(100)));
    w.add(ms);
  }

  /** Prometheus exposition text; `gauges` are point-in-time values supplied by the caller. */
  render(gauges: Record<string, number>): string {
    const lines: string[] = [];
    const sec = (ms: number | undefined): string => (ms === undefined ? 'NaN' : (ms / 1000).toFixed(4));
    lines.push('# HELP chronos_lateness_seconds Scheduled time to TASK_RUNNING of scheduled runs (latest 10000).');
    lines.push('# TYPE chronos_lateness_seconds summary');
    for (const q of [0.5, 0.9, 0.99, 1]) lines.push(`chronos_lateness_seconds{quantile="${q}"} ${sec(percentile(this.lateness.values(), q * 100))}`);
    lines.push(`chronos_lateness_seconds_count ${this.lateness.values().length}`);
    lines.push('# HELP chronos_job_lateness_seconds Per-job lateness (latest 100 runs).');
    lines.push('# TYPE chronos_job_lateness_seconds summary');
    for (const [job, w] of [...this.latenessByJob].sort(([a], [b]) => a.localeCompare(b))) {
      for (const q of [0.5, 0.99]) lines.push(`chronos_job_lateness_seconds{job="${job}",quantile="${q}"} ${sec(percentile(w.values(), q * 100))}`);
      const last = w.values()[w.values().length - 1];
      lines.push(`chronos_job_last_lateness_seconds{job="${job}"} ${sec(last)}`);
    }
    const names: Record<keyof ChronosMetrics['counters'], string> = {
      runsStarted: 'chronos_runs_started_total',
      runsSucceeded: 'chronos_runs_succeeded_total',
      runsFailed: 'chronos_runs_failed_total',
      attemptsFailed: 'chronos_attempts_failed_total',
      runsSkipped: 'chronos_runs_skipped_total',
      retries: 'chronos_retries_total',
      launches: 'chronos_launches_total',
      revives: 'chronos_revives_total',
      suppresses: 'chronos_suppresses_total',
    };
    for (const [k, name] of Object.entries(names)) {
      lines.push(`# TYPE ${name} counter`, `${name} ${this.counters[k as keyof ChronosMetrics['counters']]}`);
    }
    for (const [name, value] of Object.entries(gauges)) lines.push(`# TYPE ${name} gauge`, `${name} ${value}`);
    return lines.join('\n') + '\n';
  }
}
