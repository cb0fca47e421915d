// max_tokens for a Claude turn that thinks adaptively when the client set none (docs/contract.md#request-rules):
// its thinking spends from max_tokens, and at the old default of 4096 Claude 5 can spend all of it and answer nothing
// (WordPress/openstation #517 on Sonnet 5, octopusreview/octopus #689 on Opus 5). Such a turn — Claude 5 or an
// always-thinking model with nothing said, or an effort on an adaptive model — gets 32000 on both routes (Bedrock's
// own Converse default is 4096 too: litellm #41529). A client's max_tokens is kept; a turn without thinking keeps
// 4096 on invoke and nothing on converse; budget thinking keeps its budget on top of 4096.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import OpenAI from 'openai';
import { startHarness, type Harness } from '../helpers/harness.ts';

const MODELS = [
  { name: 'opus-5', model: 'bedrock/invoke/global.anthropic.claude-opus-5', region: 'us-east-1' },
  { name: 'sonnet-5-converse', model: 'bedrock/converse/us.anthropic.claude-sonnet-5', region: 'us-east-1' },
  { name: 'fable', model: 'bedrock/invoke/us.anthropic.claude-fable-5', region: 'us-east-1' },
  { name: 'opus-48', model: 'bedrock/invoke/us.anthropic.claude-opus-4-8', region: 'us-east-1' },
  { name: 'opus-48-converse', model: 'bedrock/converse/us.anthropic.claude-opus-4-8', region: 'us-east-1' },
  { name: 'sonnet-45', model: 'bedrock/invoke/us.anthropic.claude-sonnet-4-5-20250929-v1:0', region: 'us-east-1' },
];
type Json = Record<string, unknown>;

/** The max_tokens Bedrock was sent: Claude's body on invoke, inferenceConfig.maxTokens on converse (undefined: none). */
function sentMax(h: Harness): unknown {
  const body = h.emu.requests.at(-1)!.json as Json;
  return 'anthropic_version' in body ? body.max_tokens : (body.inferenceConfig as Json | undefined)?.maxTokens;
}

test('claude max_tokens: a turn that thinks adaptively without a client max_tokens gets 32000, on invoke and converse', async () => {
  const h = await startHarness({ models: MODELS });
  const client = new OpenAI({ baseURL: `${h.url}/v1`, apiKey: 'unused', maxRetries: 0 });
  const ask = async (model: string, extra: Partial<OpenAI.Chat.ChatCompletionCreateParamsNonStreaming> = {}): Promise<unknown> => {
    h.emu.script({ type: 'text', text: 'ok' });
    await client.chat.completions.create({ model, messages: [{ role: 'user', content: 'Plan the refactor.' }], ...extra });
    return sentMax(h);
  };
  try {
    // Claude 5 and the always-thinking models think with nothing said.
    assert.equal(await ask('opus-5'), 32000);
    assert.equal(await ask('sonnet-5-converse'), 32000);
    assert.equal(await ask('fable'), 32000);
    // An effort on an adaptive model thinks; on Opus 4.8 nothing said means no thinking.
    assert.equal(await ask('opus-48', { reasoning_effort: 'high' }), 32000);
    assert.equal(await ask('opus-48-converse', { reasoning_effort: 'low' }), 32000);
    assert.equal(await ask('opus-48'), 4096);
    assert.equal(await ask('opus-48-converse'), undefined, 'converse: no maxTokens, as before');
    // Thinking turned off: the default as before.
    assert.equal(await ask('opus-5', { reasoning_effort: 'none' }), 4096);
    assert.equal(await ask('sonnet-5-converse', { reasoning_effort: 'none' }), undefined);
    // The client's own max_tokens is kept, small or large.
    assert.equal(await ask('opus-5', { max_tokens: 900 }), 900);
    assert.equal(await ask('sonnet-5-converse', { max_tokens: 50000 }), 50000);
    // Budget thinking: the budget on top of the default, as before.
    assert.equal(await ask('sonnet-45', { reasoning_effort: 'medium' }), 4096 + 8192);
  } finally {
    await h.close();
  }
});

test('claude max_tokens: a Responses request without max_output_tokens to Claude 5 gets the room too', async () => {
  const h = await startHarness({ models: MODELS });
  const client = new OpenAI({ baseURL: `${h.url}/v1`, apiKey: 'unused', maxRetries: 0 });
  try {
    h.emu.script({ type: 'text', text: 'ok' });
    const answer = await client.responses.create({ model: 'opus-5', input: 'Plan the refactor.' });
    assert.equal(answer.output_text, 'ok');
    assert.equal(sentMax(h), 32000);
  } finally {
    await h.close();
  }
});
