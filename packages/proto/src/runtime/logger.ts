export type LogLevel = 'debug' | 'info' | 'warn' | 'error';

export type LogFields = Record<string, unknown>;

/** Structured logging, injected into every server component (never a global). */
export interface Logger {
  debug(message: string, fields?: LogFields): void;
  info(message: string, fields?: LogFields): void;
  warn(message: string, fields?: LogFields): void;
  error(message: string, fields?: LogFields): void;
  /** A logger whose lines carry `component` and any extra fields. */
  child(component: string, fields?: LogFields): Logger;
}

const ORDER: Record<LogLevel, number> = { debug: 10, info: 20, warn: 30, error: 40 };

export interface ConsoleLoggerOptions {
  /** The lowest level written. Defaults to MESO_LOG_LEVEL, else `info`. */
  level?: LogLevel;
  /** Where lines go. Defaults to process.stderr. */
  write?: (line: string) => void;
  /** `text` (default) for people, `json` for log shippers. Defaults to MESO_LOG_FORMAT. */
  format?: 'text' | 'json';
}

function formatValue(v: unknown): string {
  if (v instanceof Error) return JSON.stringify(v.message);
  if (typeof v === 'string') return /[\s"=]/.test(v) ? JSON.stringify(v) : v;
  return JSON.stringify(v) ?? String(v);
}

function isLogLevel(v: unknown): v is LogLevel {
  return typeof v === 'string' && v in ORDER;
}

/** A logger writing one line per entry: `time level component message key=value ...`. */
export function createLogger(component: string, options: ConsoleLoggerOptions = {}, base: LogFields = {}): Logger {
  const envLevel = process.env['MESO_LOG_LEVEL'];
  const level: LogLevel = options.level ?? (isLogLevel(envLevel) ? envLevel : 'info');
  const format = options.format ?? (process.env['MESO_LOG_FORMAT'] === 'json' ? 'json' : 'text');
  const write = options.write ?? ((line: string) => process.stderr.write(`${line}\n`));
  const log = (lvl: LogLevel, message: string, fields: LogFields = {}): void => {
    if (ORDER[lvl] < ORDER[level]) return;
    const all = { ...base, ...fields };
    const time = new Date().toISOString();
    if (format === 'json') {
      write(JSON.stringify({ time, level: lvl, component, message, ...all }, (_k, v: unknown) => (v instanceof Error ? v.message : v)));
      return;
    }
    const kv = Object.entries(all)
      .filter(([, v]) => v !== undefined)
      .map(([k, v]) => `${k}=${formatValue(v)}`)
      .join(' ');
    write(`${time} ${lvl.toUpperCase().padEnd(5)} ${component} ${message}${kv ? ` ${kv}` : ''}`);
  };
  return {
    debug: (m, f) => log('debug', m, f),
    info: (m, f) => log('info', m, f),
    warn: (m, f) => log('warn', m, f),
    error: (m, f) => log('error', m, f),
    child: (c, f) => createLogger(`${component}.${c}`, { level, write, format }, { ...base, ...f }),
  };
}

/** A logger that writes nothing (tests). */
export const silentLogger: Logger = {
  debug: () => undefined,
  info: () => undefined,
  warn: () => undefined,
  error: () => undefined,
  child: () => silentLogger,
};
