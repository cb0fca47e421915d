/**
 * One Claude Agent SDK session, as an app embeds it: `query()` from @anthropic-ai/claude-agent-sdk (which runs
 * its own bundled Claude Code) with the sidecar as `ANTHROPIC_BASE_URL`. Run by test/agents/agent-sdk.test.ts
 * through the harness (fresh HOME, loopback only, killed at its bound): argv[2] is the prompt, and the
 * environment the harness built (ANTHROPIC_BASE_URL, the key, the quiet switches, ANTHROPIC_MODEL) is what
 * the SDK passes to its CLI. Prints every message the SDK yields as one JSON line; exits 0 when the session's
 * result is a success, 1 when it is an error or the SDK throws (the error's message on stderr).
 */
import { query } from '@anthropic-ai/claude-agent-sdk';

const prompt = process.argv[2];
if (!prompt) {
  console.error('usage: agent-sdk-run.mjs PROMPT');
  process.exit(2);
}

let failed = true;
try {
  for await (const message of query({
    prompt,
    options: {
      cwd: process.cwd(),
      env: { ...process.env },
      model: process.env.ANTHROPIC_MODEL,
      maxTurns: 4,
      settingSources: [],
      allowedTools: ['Read'],
    },
  })) {
    process.stdout.write(`${JSON.stringify(message)}\n`);
    if (message.type === 'result') failed = message.is_error;
  }
} catch (error) {
  console.error(error instanceof Error ? error.message : String(error));
  failed = true;
}
process.exit(failed ? 1 : 0);
