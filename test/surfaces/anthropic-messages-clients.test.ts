/**
 * What real Anthropic clients sent (recorded from Claude Code 2.1.197 first-party mode, its Sonnet mode, the
 * Claude Agent SDK 0.3.336, the Anthropic TS SDK 1.17.0 and @ai-sdk/anthropic 3.0.140: the tool-result turn of
 * each, in test/fixtures/anthropic-messages/clients/) replayed against the sidecar and the emulator, with
 * aliases named after the models they ask for: every one is served, streamed and not, on Claude's own body
 * (whatever Bedrock would refuse dropped) and, translated, on another family through Converse.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { startHarness } from '../helpers/harness.ts';

const DIR = new URL('../fixtures/anthropic-messages/clients/', import.meta.url).pathname;

interface Capture {
  client: string;
  headers: Record<string, string>;
  body: Record<string, unknown>;
}

const captures: Capture[] = readdirSync(DIR)
  .sort()
  .map((f) => JSON.parse(readFileSync(join(DIR, f), 'utf8')) as Capture);

const MODELS = [
  { name: 'claude-opus-4-8', model: 'bedrock/invoke/global.anthropic.claude-opus-4-8', region: 'us-east-1' },
  { name: 'claude-sonnet-4-5', model: 'bedrock/invoke/us.anthropic.claude-sonnet-4-5-20250929-v1:0', region: 'us-east-1' },
  { name: 'claude-opus-5-5', model: 'bedrock/invoke/global.anthropic.claude-opus-5-5', region: 'us-east-1' },
  { name: 'nova', model: 'bedrock/converse/us.amazon.nova-pro-v1:0', region: 'us-east-1' },
];

test('messages clients: every recorded client turn is served on Claude, streamed and whole, and through Converse', async () => {
  const h = await startHarness({ models: MODELS });
  try {
    for (const capture of captures) {
      for (const [model, stream] of [
        [capture.body.model as string, true],
        [capture.body.model as string, false],
        ['nova', true],
      ] as const) {
        h.emu.script({ type: 'text', text: `served ${capture.client}` });
        const response = await fetch(`${h.url}/v1/messages?beta=true`, {
          method: 'POST',
          headers: { 'content-type': 'application/json', ...capture.headers },
          body: JSON.stringify({ ...capture.body, model, stream }),
        });
        const text = await response.text();
        const what = `${capture.client} → ${model}${stream ? ' (stream)' : ''}`;
        assert.equal(response.status, 200, `${what}: ${text.slice(0, 400)}`);
        if (stream) assert.ok(text.endsWith('event: message_stop\ndata: {"type":"message_stop"}\n\n'), `${what}: ${text.slice(-300)}`);
        else assert.match(text, new RegExp(`"text":"served ${capture.client}"`), what);
        assert.equal(h.emu.requests.at(-1)!.status, 200, `${what}: the emulator took the upstream body`);
      }
    }
  } finally {
    await h.close();
  }
});
