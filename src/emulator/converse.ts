// Converse / ConverseStream — phase 2 (not yet implemented in this build).
import type { CallContext } from './call.ts';

export async function handleConverse(call: CallContext, _stream: boolean): Promise<void> {
  call.validationError('The emulator does not implement Converse yet.');
}
