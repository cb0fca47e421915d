/**
 * The suite's one way to start the Bedrock emulator: in-process on 127.0.0.1:0, quiet, accepting
 * TEST_CREDENTIALS (its default) unless `credentials` says otherwise. `withEmulator` closes it whatever
 * the test does.
 */
import { startEmulator, type Emulator, type EmulatorOptions } from '../../src/emulator/index.ts';

export type { Emulator, EmulatorOptions };

export function startTestEmulator(options: EmulatorOptions = {}): Promise<Emulator> {
  return startEmulator({ quiet: true, ...options });
}

/** Runs `run` against a fresh emulator and closes it, whether `run` resolves or throws. */
export async function withEmulator<T>(run: (emu: Emulator) => Promise<T>, options: EmulatorOptions = {}): Promise<T> {
  const emu = await startTestEmulator(options);
  try {
    return await run(emu);
  } finally {
    await emu.close();
  }
}

export interface Gate {
  /** Settles once `open()` is called. */
  opened: Promise<void>;
  readonly open: () => void;
}

/**
 * A promise the test opens by hand: the `until` of an emulator `delay` reply or of a stream's `pause`, to
 * hold a request in flight exactly until the test has done what it needs — however loaded the machine.
 */
export function gate(): Gate {
  let open: () => void = () => undefined;
  const opened = new Promise<void>((resolve) => {
    open = resolve;
  });
  return { opened, open: () => open() };
}
