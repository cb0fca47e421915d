// `max` reasoning effort (docs/contract.md#request-rules): OpenAI's own SDK types offer it (none … xhigh, max) and
// GPT-5.6 / GPT-6 take it on Converse as `reasoning: {effort: "max"}` (stdapi.ai #283, opencode #48195, probed on
// Bedrock). The sidecar used to refuse it in the request reader on Chat and Responses alike. It now becomes each
// family's own: `max` for GPT and for the Claude models that have it, a 400 naming reasoning_effort where the model
// has no such level (Sonnet 4.6, Nova 2). A Messages client's `output_config.effort: "max"` reaches a converse
// alias of Claude as `max`, where it used to be lowered to xhigh.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import Anthropic from '@anthropic-ai/sdk';
import OpenAI from 'openai';
import { startHarness, type Harness } from '../helpers/harness.ts';

const MODELS = [
  { name: 'gpt-6', model: 'bedrock/converse/us.openai.gpt-6-sol', region: 'us-east-1' },
  { name: 'opus-47', model: 'bedrock/converse/us.anthropic.claude-opus-4-7', region: 'us-east-1' },
  { name: 'sonnet-46', model: 'bedrock/converse/us.anthropic.claude-sonnet-4-6', region: 'us-east-1' },
  { name: 'nova-2', model: 'bedrock/converse/us.amazon.nova-2-lite-v1:0', region: 'us-east-1' },
];

type Json = Record<string, unknown>;
const fields = (h: Harness): Json => (h.emu.requests.at(-1)!.json as Json).additionalModelRequestFields as Json;
const messages = [{ role: 'user' as const, content: 'Think hard.' }];

async function refusedParam(call: Promise<unknown>): Promise<unknown> {
  try {
    await call;
  } catch (err) {
    assert.ok(err instanceof OpenAI.APIError && err.status === 400, String(err));
    return (err.error as Json | undefined)?.param;
  }
  assert.fail('expected a 400');
}

test('reasoning max: Chat and Responses send max to GPT-6 and to Claude where it has it, a 400 where the model has no such level', async () => {
  const h = await startHarness({ models: MODELS });
  const client = new OpenAI({ baseURL: `${h.url}/v1`, apiKey: 'unused', maxRetries: 0 });
  try {
    h.emu.script({ type: 'text', text: 'Done.' });
    await client.chat.completions.create({ model: 'gpt-6', reasoning_effort: 'max', messages });
    assert.deepEqual(fields(h), { reasoning: { effort: 'max' } });

    h.emu.script({ type: 'text', text: 'Done.' });
    const response = await client.responses.create({ model: 'gpt-6', reasoning: { effort: 'max' }, input: 'Think hard.' });
    assert.equal(response.output_text, 'Done.');
    assert.deepEqual(fields(h), { reasoning: { effort: 'max' } });

    h.emu.script({ type: 'text', text: 'Done.' });
    await client.chat.completions.create({ model: 'opus-47', reasoning_effort: 'max', messages });
    assert.deepEqual(fields(h).output_config, { effort: 'max' });

    const before = h.emu.requests.length;
    assert.equal(
      await refusedParam(client.chat.completions.create({ model: 'sonnet-46', reasoning_effort: 'max', messages })),
      'reasoning_effort',
    );
    assert.equal(
      await refusedParam(client.chat.completions.create({ model: 'nova-2', reasoning_effort: 'max', messages })),
      'reasoning_effort',
    );
    assert.equal(h.emu.requests.length, before, 'refused before any call');
  } finally {
    await h.close();
  }
});

test("reasoning max: a Messages client's adaptive thinking at effort max reaches a converse alias of Claude as max", async () => {
  const h = await startHarness({ models: MODELS });
  const client = new Anthropic({ baseURL: h.url, apiKey: 'unused', maxRetries: 0 });
  try {
    h.emu.script({ type: 'text', text: 'Done.' });
    await client.messages.create({
      model: 'opus-47',
      max_tokens: 2000,
      thinking: { type: 'adaptive' },
      output_config: { effort: 'max' },
      messages,
    } as Anthropic.MessageCreateParamsNonStreaming);
    assert.deepEqual(fields(h).output_config, { effort: 'max' });
  } finally {
    await h.close();
  }
});
