// ApplyGuardrail — phase 4 (not yet implemented in this build).
import type { CallContext } from './call.ts';
import type { ScriptQueue } from './script.ts';
import type { ScriptedGuardrailReply } from './types.ts';

export async function handleApplyGuardrail(
  call: CallContext, _id: string, _version: string, _queue: ScriptQueue<ScriptedGuardrailReply>,
): Promise<void> {
  call.validationError('The emulator does not implement ApplyGuardrail yet.');
}
