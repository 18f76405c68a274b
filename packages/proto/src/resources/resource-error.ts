/**
 * A resource or attribute that cannot be accepted. `field` names what is wrong in the
 * caller's terms (e.g. `resources[2].value`, or the fragment `cpus:abc` of a flag).
 */
export class ResourceError extends Error {
  readonly code = 'INVALID_RESOURCES' as const;
  override readonly name = 'ResourceError';

  constructor(
    readonly field: string,
    readonly reason: string,
  ) {
    super(`${field}: ${reason}`);
  }
}
