import type { Resources } from '@meso/proto';
import type { PlacedOperation } from './convert.js';
import { SchedulerError } from './errors.js';
import { OfferBuilder, placeWithoutOffer, type PlacedTask } from './offer-builder.js';
import { resourcesOfSpec, validateExecutor } from './task-spec.js';
import type { Offer, Operation, TaskSpec } from './types.js';
import { reservationResources, volumesResources } from './volumes.js';

/** ACCEPT's operations with every task placed, ready for the wire. */
export interface LaunchPlan {
  agentId: string;
  operations: PlacedOperation[];
}

/**
 * Places the tasks of ACCEPT's operations. With the offers known (all of them), resources are
 * taken from the offers with an OfferBuilder (reserved first, ports picked), and reservation and
 * volume operations are applied to it in order (a task may use what a `reserve` / `create`
 * before it made); otherwise they are sent as given. Throws TASK_DOES_NOT_FIT / INVALID_TASK / INVALID_EXECUTOR naming the field.
 */
export function planLaunch(offers: readonly Offer[] | undefined, operations: readonly Operation[]): LaunchPlan {
  const builder = offers ? new OfferBuilder(offers) : undefined;
  const placed = operations.map((op, i): PlacedOperation => {
    const field = `operations[${i}]`;
    const place = (t: TaskSpec, j: number): PlacedTask =>
      builder ? builder.add(t, `${field}.tasks[${j}]`) : placeWithoutOffer(t, `${field}.tasks[${j}]`);
    if (op.type === 'launch') return { type: 'launch', tasks: op.tasks.map(place) };
    if (op.type === 'launchGroup') {
      let executorResources: Resources;
      if (builder) {
        executorResources = builder.addExecutor(op.executor, `${field}.executor`);
      } else {
        validateExecutor(op.executor, `${field}.executor`);
        executorResources = resourcesOfSpec(op.executor.resources, `${field}.executor.resources`);
      }
      return { type: 'launchGroup', executor: op.executor, executorResources, tasks: op.tasks.map(place) };
    }
    if (op.type === 'reserve' || op.type === 'unreserve') {
      return { type: op.type, resources: builder ? builder.apply(op, field) : reservationResources(op.resources, `${field}.resources`) };
    }
    if (op.type === 'create' || op.type === 'destroy') {
      return { type: op.type, volumes: builder ? builder.apply(op, field) : volumesResources(op.volumes, `${field}.volumes`) };
    }
    throw new SchedulerError(
      'UNSUPPORTED_OPERATION',
      `${field}.type: '${String((op as { type: unknown }).type)}' is not launch, launchGroup, reserve, unreserve, create or destroy`,
      { field: `${field}.type` },
    );
  });
  return { agentId: builder?.agentId ?? '', operations: placed };
}
