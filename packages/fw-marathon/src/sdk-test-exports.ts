// Test-only helpers from the SDK, kept apart from sdk.ts so the runtime seam stays small.
export { parseResources, FakeSchedulerTransport, FakeClock, Scheduler, silentLogger } from '@meso/sdk-scheduler';
export type { Offer } from '@meso/sdk-scheduler';
