import { Resources, type Resource } from '@meso/sdk-scheduler';

/** The role of unreserved resources. */
export const UNRESERVED = '*';

/** What one server takes from an offer. */
export interface ServerNeeds {
  cpus: number;
  mem: number;
  port: number;
  /** Disk to reserve for a new persistent volume (MB), if one is created. */
  newVolumeDiskMb?: number;
}

/** What to do for one server: reserve these (from unreserved), then launch with these. */
export interface ServerTake {
  reserve: Resource[];
  task: Resources;
}

/**
 * What is left of one offer as servers are placed in it. cpus and mem come from the role's
 * reservation first (what an ended server of ours left reserved there), then from unreserved
 * resources; with `reserve` on, the unreserved part is reserved for the role (so it comes back
 * to us, with the volume, if the server ends), as is the disk of a new volume.
 */
export class OfferLedger {
  private left: Resources;

  constructor(offer: Resources, private readonly role: string, private readonly reserve: boolean) {
    this.left = offer;
  }

  take(needs: ServerNeeds): ServerTake {
    const reserve: Resource[] = [];
    const task: Resource[] = [];
    const used: Resource[] = [];
    for (const name of ['cpus', 'mem'] as const) {
      const fromRole = this.role === UNRESERVED ? 0 : Math.min(needs[name], this.left.scalar(name, this.role));
      const fromPool = round(needs[name] - fromRole);
      if (fromRole > 0) used.push({ name, kind: 'scalar', value: fromRole, role: this.role });
      if (fromPool > 0) used.push({ name, kind: 'scalar', value: fromPool, role: UNRESERVED });
      if (this.reserve && fromPool > 0) reserve.push({ name, kind: 'scalar', value: fromPool, role: this.role });
      if (this.reserve || fromRole > 0) task.push({ name, kind: 'scalar', value: this.reserve ? needs[name] : fromRole, role: this.role });
      if (!this.reserve && fromPool > 0) task.push({ name, kind: 'scalar', value: fromPool, role: UNRESERVED });
    }
    if (needs.newVolumeDiskMb) {
      used.push({ name: 'disk', kind: 'scalar', value: needs.newVolumeDiskMb, role: UNRESERVED });
      reserve.push({ name: 'disk', kind: 'scalar', value: needs.newVolumeDiskMb, role: this.role });
    }
    const portRole = this.left.toList().find((r) => r.name === 'ports' && r.kind === 'ranges' && r.ranges.some((x) => x.begin <= needs.port && needs.port <= x.end))?.role ?? UNRESERVED;
    const port: Resource = { name: 'ports', kind: 'ranges', ranges: [{ begin: needs.port, end: needs.port }], role: portRole };
    this.left = this.left.subtract(Resources.of([...used, port]));
    return { reserve, task: Resources.of([...task, port]) };
  }
}

const round = (x: number): number => Math.round(x * 1000) / 1000;
