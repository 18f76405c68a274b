/** Task and executor ids: what Mesos allows in a sandbox path component. */
const ID_PATTERN = /^[A-Za-z0-9_.:-]+$/;

/** Why an id is not valid, or undefined when it is. */
export function invalidIdReason(id: string | undefined): string | undefined {
  if (id === undefined || id === '') return 'must not be empty';
  if (!ID_PATTERN.test(id)) return `'${id}' has characters outside [A-Za-z0-9_.:-]`;
  if (id === '.' || id === '..') return `'${id}' is not allowed`;
  return undefined;
}

/**
 * Hands out the ids the master assigns, all prefixed by the master id so they never
 * collide across master restarts: agents `<masterId>-S<n>`, frameworks `<masterId>-<NNNN>`,
 * offers `<masterId>-O<n>`.
 */
export class IdGenerator {
  private agents = 0;
  private frameworks = 0;
  private offers = 0;

  constructor(readonly masterId: string) {}

  agentId(): string {
    return `${this.masterId}-S${this.agents++}`;
  }

  frameworkId(): string {
    return `${this.masterId}-${String(this.frameworks++).padStart(4, '0')}`;
  }

  offerId(): string {
    return `${this.masterId}-O${this.offers++}`;
  }
}
