import { normalizeRanges } from './ranges.js';
import type { Range } from './types.js';

/**
 * A property of an agent that frameworks match on (e.g. `rack:r1`, `zone:west`).
 * Text attributes are the common case; scalars, ranges and sets work as in Mesos.
 */
export type Attribute =
  | { name: string; kind: 'text'; text: string }
  | { name: string; kind: 'scalar'; value: number }
  | { name: string; kind: 'ranges'; ranges: Range[] }
  | { name: string; kind: 'set'; items: string[] };

/** The attribute's value as text, as constraints compare it (`r1`, `10`, `[1-5]`, `{a,b}`). */
export function attributeText(a: Attribute): string {
  switch (a.kind) {
    case 'text':
      return a.text;
    case 'scalar':
      return String(a.value);
    case 'ranges':
      return `[${normalizeRanges(a.ranges).map((r) => `${r.begin}-${r.end}`).join(',')}]`;
    case 'set':
      return `{${a.items.join(',')}}`;
  }
}
