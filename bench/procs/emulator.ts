/**
 * The upstream of every benchmark target: the project's Bedrock emulator in a process of its own, with
 * signatures accepted unchecked (the direct target and the pass-through do not sign; the sidecar signs
 * anyway, and that cost is in its CPU figures). Replies come from the markers in each request's user text
 * (`[[emulator:repeat:N]]`, `[[emulator:frame-delay:MS]]`), so no reply queue has to be kept in step with
 * the load. The recorded-request log is cleared every second so a long run does not grow it.
 */
import { startEmulator } from '../../src/emulator/index.ts';
import { failed, ready, serveStats } from './agent.ts';

async function main(): Promise<void> {
  const emu = await startEmulator({ quiet: true, verifySignature: false });
  setInterval(() => {
    emu.requests.length = 0;
  }, 1_000).unref();
  serveStats();
  ready(emu.url);
}

void main().catch((error: unknown) => failed(String(error)));
