/**
 * Reading sidecar.yaml again for a reload (SIGHUP or a change to the file), safely: a file that is being
 * rewritten in place is often seen half-written by the 1 s poll, and a half file can be valid YAML that
 * turns authentication off or drops every alias. So the text is only used once it has stayed the same
 * for `settleMs`; a reload that would turn `server.auth_token` off or leave no alias at all must stay the
 * same for `dangerousSettleMs` more, and is then applied with a warning naming what it does. A file
 * that never settles within `maxWaitMs` is not used (the caller keeps the config it has).
 *
 * Errors: a ConfigError (as from loadConfigFile), the empty file included.
 */
import { readFile } from 'node:fs/promises';
import { ConfigError, parseConfig } from './load.ts';
import type { SidecarConfig } from './schema.ts';

export interface StableReadOptions {
  /** The text must not change for this long before it is used. */
  settleMs: number;
  /** And this much longer for a reload that turns auth off or drops every alias. */
  dangerousSettleMs: number;
  /** Give up after this long. */
  maxWaitMs: number;
}

export const RELOAD_TIMING: StableReadOptions = { settleMs: 300, dangerousSettleMs: 1_500, maxWaitMs: 10_000 };

export interface ReloadResult {
  config: SidecarConfig;
  /** What this reload does that an operator must know about (auth off, every alias gone). */
  warnings: string[];
}

/** Reads `path` until it is stable (see above), parses it and says what is dangerous about it. */
export async function readStableConfig(
  path: string,
  previous: SidecarConfig,
  options: StableReadOptions = RELOAD_TIMING,
): Promise<ReloadResult> {
  const deadline = Date.now() + options.maxWaitMs;
  let text = await read(path);
  for (;;) {
    const settled = await settle(path, text, options.settleMs);
    if (settled === text) {
      const config = parseConfig(text, path);
      const warnings = dangers(previous, config);
      if (warnings.length === 0) return { config, warnings };
      // A dangerous change must be what the operator meant: the whole file, still the same a while later.
      const confirmed = await settle(path, text, options.dangerousSettleMs);
      if (confirmed === text) return { config, warnings };
      text = confirmed;
    } else {
      text = settled;
    }
    if (Date.now() > deadline) {
      throw new ConfigError('', undefined, `the file kept changing for ${options.maxWaitMs} ms: not reloaded`, path);
    }
  }
}

/** The text after `ms`, or the first different text seen on the way. */
async function settle(path: string, text: string, ms: number): Promise<string> {
  const step = Math.min(100, ms);
  for (let waited = 0; waited < ms; waited += step) {
    await new Promise((r) => setTimeout(r, step));
    const now = await read(path);
    if (now !== text) return now;
  }
  return text;
}

async function read(path: string): Promise<string> {
  try {
    return await readFile(path, 'utf8');
  } catch (error) {
    throw new ConfigError('', undefined, `cannot read the config file: ${(error as Error).message}`, path);
  }
}

/** What a new config does that must never happen by accident. */
export function dangers(previous: SidecarConfig, next: SidecarConfig): string[] {
  const out: string[] = [];
  if (previous.server.authToken !== '' && next.server.authToken === '') {
    out.push('server.auth_token is no longer set: the proxy now answers requests without authentication');
  }
  if (previous.models.length > 0 && next.models.length === 0) {
    out.push(`models: is now empty: every alias (${previous.models.map((m) => m.name).join(', ')}) is gone`);
  }
  return out;
}
