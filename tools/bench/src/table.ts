import type { BenchResult, Figure } from './result.js';

function num(v: number): string {
  if (!Number.isFinite(v)) return String(v);
  if (Math.abs(v) >= 1000) return Math.round(v).toLocaleString('en-US');
  return String(Number(v.toPrecision(3)));
}

function cells(bench: string, f: Figure): string[] {
  return [
    bench,
    f.name,
    `${num(f.value)} ${f.unit}`,
    f.reference ? `${num(f.reference.value)} ${f.unit} (${f.reference.source})` : '',
    f.ratio !== undefined ? `${num(f.ratio)}×` : '',
    f.target ? `${f.target.op} ${num(f.target.value)} ${f.unit}` : '',
    f.met === undefined ? '' : f.met ? 'yes' : 'NO',
  ];
}

const HEADER = ['benchmark', 'figure', 'value', 'reference', 'ratio', 'target', 'met'];

/** The results as a Markdown table (readable in a terminal and pasteable in a README). */
export function formatTable(results: readonly BenchResult[]): string {
  const rows = [HEADER, ...results.flatMap((r) => r.figures.map((f) => cells(r.name, f)))];
  const widths = HEADER.map((_, i) => Math.max(...rows.map((row) => (row[i] ?? '').length)));
  const line = (row: string[]): string => `| ${row.map((c, i) => c.padEnd(widths[i] ?? 0)).join(' | ')} |`;
  return [line(HEADER), `|${widths.map((w) => '-'.repeat(w + 2)).join('|')}|`, ...rows.slice(1).map(line)].join('\n');
}
