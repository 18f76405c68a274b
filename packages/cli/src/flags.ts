import { homedir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { usageError } from './cli-error.js';

/** One flag of a command: Mesos's name (underscores), its kind, help and default. */
export interface FlagSpec {
  kind: 'string' | 'boolean';
  help: string;
  default?: string;
  /** A value placeholder for help, e.g. 'HOST:PORT'. */
  value?: string;
}

export type FlagSpecs = Record<string, FlagSpec>;

export interface ParsedFlags {
  values: Record<string, string | boolean | undefined>;
  /** Arguments after `--` (or positionals). */
  rest: string[];
}

/**
 * Parses `argv` against `specs`. Flags are accepted with underscores (Mesos's spelling,
 * `--work_dir`) or dashes (`--work-dir`), as `--flag value` or `--flag=value`.
 * Unknown flags are usage errors naming the flag.
 */
export function parseFlags(argv: string[], specs: FlagSpecs): ParsedFlags {
  const options: Record<string, { type: 'string' | 'boolean' }> = { help: { type: 'boolean' } };
  for (const [name, spec] of Object.entries(specs)) options[name] = { type: spec.kind };
  const dash = argv.indexOf('--');
  const own = (dash === -1 ? argv : argv.slice(0, dash)).map((a) =>
    a.startsWith('--') ? a.replace(/^--([^=]+)/, (_m, name: string) => `--${name.replace(/-/g, '_')}`) : a,
  );
  let parsed: ReturnType<typeof parseArgs>;
  try {
    parsed = parseArgs({ args: own, options, allowPositionals: true, strict: true });
  } catch (e) {
    throw usageError((e as Error).message.replace(/^Unknown option/, 'unknown flag').replace(/\. To specify a positional.*$/s, ''));
  }
  const values: Record<string, string | boolean | undefined> = {};
  for (const [name, spec] of Object.entries(specs)) values[name] = (parsed.values[name] as string | boolean | undefined) ?? spec.default;
  values['help'] = parsed.values['help'] as boolean | undefined;
  return { values, rest: [...parsed.positionals, ...(dash === -1 ? [] : argv.slice(dash + 1))] };
}

/** Help text: usage line, summary, then one line per flag with its default. */
export function formatHelp(usage: string, summary: string, specs: FlagSpecs): string {
  const rows = Object.entries(specs).map(([name, s]) => {
    const left = `  --${name}${s.kind === 'string' ? `=${s.value ?? 'VALUE'}` : ''}`;
    const def = s.default !== undefined ? ` (default: ${s.default})` : '';
    return [left, `${s.help}${def}`] as const;
  });
  const width = Math.max(...rows.map(([l]) => l.length), 10) + 2;
  return [`Usage: ${usage}`, '', summary, '', 'Flags:', ...rows.map(([l, r]) => l.padEnd(width) + r), '  --help'.padEnd(width) + 'Show this help.'].join('\n');
}

const UNITS: Record<string, number> = { ns: 1e-6, us: 1e-3, ms: 1, secs: 1000, s: 1000, mins: 60_000, m: 60_000, hrs: 3_600_000, h: 3_600_000, days: 86_400_000, d: 86_400_000 };

/** Parses a Mesos duration (`1secs`, `500ms`, `2mins`, or plain seconds) into milliseconds. */
export function parseDuration(flag: string, text: string): number {
  const m = /^\s*(\d+(?:\.\d+)?)\s*([a-z]*)\s*$/.exec(text);
  const unit = m?.[2] === '' ? 'secs' : m?.[2];
  if (!m || unit === undefined || !(unit in UNITS)) {
    throw usageError(`--${flag}: '${text}' is not a duration like 1secs, 500ms, 2mins`);
  }
  return Number(m[1]) * (UNITS[unit] ?? 1000);
}

/** Parses a whole number flag within [min, max]. */
export function parseInteger(flag: string, text: string, min: number, max: number): number {
  const n = Number(text);
  if (!/^\d+$/.test(text.trim()) || n < min || n > max) {
    throw usageError(`--${flag}: '${text}' is not a whole number from ${min} to ${max}`);
  }
  return n;
}

/** Checks `host:port`. */
export function parseEndpoint(flag: string, text: string): string {
  const m = /^(\[[0-9a-fA-F:]+\]|[A-Za-z0-9.-]+):(\d{1,5})$/.exec(text.trim());
  if (!m || Number(m[2]) > 65535 || Number(m[2]) === 0) throw usageError(`--${flag}: '${text}' is not HOST:PORT`);
  return text.trim();
}

/** The data directory under which work dirs default: $MESO_HOME, else ~/.meso. */
export function dataDir(): string {
  return process.env['MESO_HOME'] ?? join(homedir(), '.meso');
}
