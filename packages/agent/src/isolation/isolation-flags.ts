// Which isolators the agent applies, from `--isolation` and what the machine supports.
// Pure: the facts are inputs.
import type { CgroupSupport } from './cgroup-detect.js';

/** The isolators the agent knows, named as Mesos names them. */
export const ISOLATOR_NAMES = ['cgroups/cpu', 'cgroups/mem', 'posix/cpu', 'posix/mem', 'disk/du', 'network/ports', 'namespaces/pid'] as const;
export type IsolatorName = (typeof ISOLATOR_NAMES)[number];

/** Shorthands accepted in `--isolation`. */
const ALIASES: Record<string, IsolatorName[]> = {
  cgroups: ['cgroups/cpu', 'cgroups/mem'],
  posix: ['posix/cpu', 'posix/mem'],
  disk: ['disk/du'],
  ports: ['network/ports'],
};

/** What the machine offers the isolators. */
export interface IsolationFacts {
  cgroups: CgroupSupport;
  /** Whether the agent can create pid namespaces (root and `unshare` found). */
  pidNamespaces: { ok: true } | { ok: false; reason: string };
}

/** The decision: the isolators applied, and lines for the start log. */
export interface IsolationChoice {
  active: IsolatorName[];
  /** Why each isolator not applied is not (info). */
  notes: string[];
  /** Loud ones: a fallback from what the operator would expect (cgroups not usable). */
  warnings: string[];
}

/** Thrown for a bad `--isolation`; the agent maps it to INVALID_OPTIONS. */
export class IsolationFlagError extends Error {}

/**
 * Chooses the isolators. Without `flag`: cgroups/cpu and cgroups/mem where cgroups are
 * usable, else posix/cpu and posix/mem (with a warning naming why), plus disk/du and
 * network/ports. With `flag` (comma-separated names or shorthands `cgroups`, `posix`,
 * `disk`, `ports`): exactly those; one the machine cannot apply is an error.
 */
export function chooseIsolators(flag: string | undefined, facts: IsolationFacts): IsolationChoice {
  const notes: string[] = [];
  const warnings: string[] = [];
  let wanted: IsolatorName[];
  if (flag === undefined || flag.trim() === '') {
    const cg = facts.cgroups;
    if (cg.version === 0) {
      warnings.push(`cgroups are not used (${cg.reason}): falling back to the posix isolators — memory is enforced by polling, cpu is not limited`);
      wanted = ['posix/cpu', 'posix/mem'];
    } else {
      wanted = ['cgroups/cpu', 'cgroups/mem'];
    }
    wanted.push('disk/du', 'network/ports');
    notes.push(
      facts.pidNamespaces.ok ? 'namespaces/pid is not enabled (add it to --isolation)' : `namespaces/pid is not available (${facts.pidNamespaces.reason})`,
    );
  } else {
    wanted = [];
    for (const raw of flag.split(',')) {
      const name = raw.trim();
      if (name === '') continue;
      const expanded = ALIASES[name] ?? ((ISOLATOR_NAMES as readonly string[]).includes(name) ? [name as IsolatorName] : undefined);
      if (!expanded) throw new IsolationFlagError(`unknown isolator '${name}' (known: ${[...Object.keys(ALIASES), ...ISOLATOR_NAMES].join(', ')})`);
      for (const n of expanded) if (!wanted.includes(n)) wanted.push(n);
    }
    for (const kind of ['cpu', 'mem'] as const) {
      if (wanted.includes(`cgroups/${kind}`) && wanted.includes(`posix/${kind}`)) throw new IsolationFlagError(`cgroups/${kind} and posix/${kind} exclude each other`);
    }
    if (wanted.some((n) => n.startsWith('cgroups/')) && facts.cgroups.version === 0) {
      throw new IsolationFlagError(`cgroups cannot be used here: ${facts.cgroups.reason} (use posix instead)`);
    }
    if (wanted.includes('namespaces/pid') && !facts.pidNamespaces.ok) throw new IsolationFlagError(`namespaces/pid cannot be used here: ${facts.pidNamespaces.reason}`);
    for (const n of ISOLATOR_NAMES) if (!wanted.includes(n)) notes.push(`${n} is not in --isolation`);
  }
  return { active: ISOLATOR_NAMES.filter((n) => wanted.includes(n)), notes, warnings };
}
