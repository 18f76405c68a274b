import type { CallContext } from '@meso/proto';
import { MasterError } from '../errors.js';
import type { Master } from '../master.js';
import type { FrameworkRecord } from '../model/model.js';

/**
 * The framework behind a call: it must be known and subscribed on the stream the call
 * names. NOT_SUBSCRIBED names `context.framework_id`; STALE_STREAM `context.stream_id`.
 */
export function callerOf(master: Master, context: CallContext | undefined): FrameworkRecord {
  const id = context?.frameworkId?.value ?? '';
  if (!id) throw new MasterError('NOT_SUBSCRIBED', 'the call names no framework: SUBSCRIBE first', 'context.framework_id');
  const fw = master.model.frameworks.get(id);
  if (!fw) {
    const removed = master.model.removedFrameworks.has(id);
    throw new MasterError('NOT_SUBSCRIBED', `framework '${id}' ${removed ? 'was removed' : 'is not known'}: SUBSCRIBE first`, 'context.framework_id');
  }
  const link = master.frameworkLinks.get(id);
  if (!fw.connected || !link) throw new MasterError('NOT_SUBSCRIBED', `framework '${id}' has no live subscription: SUBSCRIBE again`, 'context.framework_id');
  if ((context?.streamId ?? '') !== link.streamId) {
    throw new MasterError('STALE_STREAM', `stream '${context?.streamId ?? ''}' of framework '${id}' has been replaced`, 'context.stream_id');
  }
  return fw;
}
