// Claude's sampling rules (docs/contract.md#request-rules), through the OpenAI SDK and raw Messages bodies, the sidecar and the emulator,
// which holds what Bedrock answers: Opus 4.1, the 4.5s and the 4.6s refuse temperature with top_p, and from
// Opus 4.7 on each of temperature, top_p and top_k is refused. An OpenAI client is told which parameter and
// why (or has it dropped with drop_params); a default of 1 is left out, as it changes nothing; Claude's own
// Messages body, which a client like Claude Code cannot be told to change, has what Bedrock would refuse
// dropped and logged.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import OpenAI from 'openai';
import { startHarness, type Harness } from '../helpers/harness.ts';

const MODELS = [
  { name: 'sonnet-45', model: 'bedrock/invoke/us.anthropic.claude-sonnet-4-5-20250929-v1:0', region: 'us-east-1' },
  { name: 'opus-47', model: 'bedrock/converse/us.anthropic.claude-opus-4-7', region: 'us-east-1' },
  { name: 'opus-47-lenient', model: 'bedrock/invoke/us.anthropic.claude-opus-4-7', region: 'us-east-1', drop_params: true },
];

type Json = Record<string, unknown>;
const sent = (h: Harness): Json => JSON.parse(h.emu.requests.at(-1)!.body.toString('utf8')) as Json;

test('claude sampling: Chat Completions — refused by name on Opus 4.7, dropped with drop_params, a default 1 left out', async () => {
  const h = await startHarness({ models: MODELS });
  const client = new OpenAI({ baseURL: `${h.url}/v1`, apiKey: 'unused', maxRetries: 0 });
  const messages = [{ role: 'user' as const, content: 'hi' }];
  try {
    const calls = h.emu.requests.length;
    await assert.rejects(client.chat.completions.create({ model: 'opus-47', temperature: 0.2, messages }), (error: unknown) => {
      assert.ok(error instanceof OpenAI.BadRequestError);
      assert.match(error.message, /"temperature" is not supported by us\.anthropic\.claude-opus-4-7/);
      return true;
    });
    assert.equal(h.emu.requests.length, calls, 'refused before any call');

    h.emu.script({ type: 'text', text: 'ok' });
    await client.chat.completions.create({ model: 'opus-47', temperature: 1, top_p: 1, messages });
    assert.equal(sent(h).inferenceConfig, undefined, JSON.stringify(sent(h)));

    h.emu.script({ type: 'text', text: 'ok' });
    const answer = await client.chat.completions.create({ model: 'opus-47-lenient', temperature: 0.2, top_p: 0.5, messages });
    assert.equal(answer.choices[0]!.message.content, 'ok');
    assert.ok(!('temperature' in sent(h)) && !('top_p' in sent(h)), JSON.stringify(sent(h)));

    await assert.rejects(
      client.chat.completions.create({ model: 'sonnet-45', temperature: 0.2, top_p: 0.5, messages }),
      /"top_p" cannot be combined with temperature/,
    );
    h.emu.script({ type: 'text', text: 'ok' });
    await client.chat.completions.create({ model: 'sonnet-45', temperature: 0.2, top_p: 1, messages });
    assert.equal(sent(h).temperature, 0.2);
    assert.ok(!('top_p' in sent(h)));
  } finally {
    await h.close();
  }
});

test("claude sampling: Claude's own Messages body — what Bedrock would refuse is dropped and logged, the turn answered", async () => {
  // Sent raw: the Anthropic SDK no longer types temperature, top_p or top_k (Anthropic retired them), but
  // older clients and apps written against the API still send them.
  const h = await startHarness({ models: MODELS });
  const messages = (model: string, sampling: Json): Promise<Response> =>
    fetch(`${h.url}/v1/messages`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'anthropic-version': '2023-06-01' },
      body: JSON.stringify({ model, max_tokens: 50, ...sampling, messages: [{ role: 'user', content: 'ping' }] }),
    });
  try {
    h.emu.script({ type: 'text', text: 'pong' });
    const response = await messages('sonnet-45', { temperature: 0.3, top_p: 0.9 });
    const message = (await response.json()) as { content: Array<{ type: string; text?: string }> };
    assert.equal(response.status, 200, JSON.stringify(message));
    assert.equal(message.content[0]?.text, 'pong');
    assert.equal(sent(h).temperature, 0.3);
    assert.ok(!('top_p' in sent(h)), JSON.stringify(sent(h)));
    assert.ok(h.logs.some((line) => JSON.stringify(line).includes('\\"top_p\\" dropped: it cannot be combined with temperature')));

    h.emu.script({ type: 'text', text: 'pong' });
    assert.equal((await messages('opus-47-lenient', { temperature: 0, top_k: 5 })).status, 200);
    assert.ok(!('temperature' in sent(h)) && !('top_k' in sent(h)), JSON.stringify(sent(h)));
  } finally {
    await h.close();
  }
});
