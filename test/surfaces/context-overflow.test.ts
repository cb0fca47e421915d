// A prompt longer than the model's context (docs/contract.md#streaming-and-errors): Bedrock answers a 400 in its own
// words ("Input is too long for requested model.") or Claude's ("prompt is too long: N tokens > M maximum", "input
// length and `max_tokens` exceed context limit: I + M > C"). The OpenAI surfaces say so in the code their clients
// compact or stop on, `context_length_exceeded`, as OpenAI does; Messages keeps Bedrock's words, which Claude Code
// recognises itself. A max_tokens the sidecar chose (the client sent none) that leaves the input no room is sent
// again with the room Claude names.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import OpenAI from 'openai';
import Anthropic from '@anthropic-ai/sdk';
import { startHarness } from '../helpers/harness.ts';

const MODELS = [
  { name: 'opus-5', model: 'bedrock/invoke/global.anthropic.claude-opus-5', region: 'us-east-1' },
  { name: 'nova', model: 'bedrock/converse/us.amazon.nova-pro-v1:0', region: 'us-east-1' },
  { name: 'embed', model: 'bedrock/invoke/cohere.embed-v4:0', region: 'us-east-1' },
];
const TOO_LONG = {
  type: 'error' as const,
  status: 400,
  errorType: 'ValidationException',
  message: 'Input is too long for requested model.',
};
const CLAUDE_TOO_LONG = {
  type: 'error' as const,
  status: 400,
  errorType: 'ValidationException',
  message: 'The model returned the following errors: prompt is too long: 227255 tokens > 200000 maximum',
};
const NO_ROOM = {
  type: 'error' as const,
  status: 400,
  errorType: 'ValidationException',
  message:
    'The model returned the following errors: input length and `max_tokens` exceed context limit: 190000 + 32000 > 200000, decrease input length or `max_tokens` and try again',
};
type Json = Record<string, unknown>;

test('context overflow: Chat, Responses and embeddings say context_length_exceeded (param messages / input); another 400 keeps its code', async () => {
  const h = await startHarness({ models: MODELS });
  const client = new OpenAI({ baseURL: `${h.url}/v1`, apiKey: 'unused', maxRetries: 0 });
  try {
    h.emu.script(TOO_LONG);
    await assert.rejects(client.chat.completions.create({ model: 'nova', messages: [{ role: 'user', content: 'x' }] }), (err: unknown) => {
      assert.ok(err instanceof OpenAI.BadRequestError, String(err));
      assert.equal(err.code, 'context_length_exceeded');
      assert.equal(err.param, 'messages');
      assert.equal(err.type, 'invalid_request_error');
      assert.match(err.message, /Input is too long for requested model/);
      return true;
    });
    for (const stream of [false, true]) {
      h.emu.script(CLAUDE_TOO_LONG);
      await assert.rejects(client.responses.create({ model: 'opus-5', input: 'x', stream }), (err: unknown) => {
        assert.ok(err instanceof OpenAI.BadRequestError, String(err));
        assert.equal(err.code, 'context_length_exceeded', `stream ${stream}`);
        assert.equal(err.param, 'input');
        return true;
      });
    }
    // Embeddings name their prompt `input` too.
    h.emu.script(TOO_LONG);
    await assert.rejects(client.embeddings.create({ model: 'embed', input: 'x' }), (err: unknown) => {
      assert.ok(err instanceof OpenAI.BadRequestError, String(err));
      assert.equal(err.code, 'context_length_exceeded');
      assert.equal(err.param, 'input');
      return true;
    });
    h.emu.script({ type: 'error', status: 400, errorType: 'ValidationException', message: 'Malformed input request.' });
    await assert.rejects(client.chat.completions.create({ model: 'nova', messages: [{ role: 'user', content: 'x' }] }), (err: unknown) => {
      assert.ok(err instanceof OpenAI.BadRequestError, String(err));
      assert.equal(err.code, 400);
      return true;
    });
  } finally {
    await h.close();
  }
});

test('context overflow: Messages keeps Claude’s words, which Claude Code reads the token counts from', async () => {
  const h = await startHarness({ models: MODELS });
  const client = new Anthropic({ baseURL: h.url, apiKey: 'unused', maxRetries: 0 });
  try {
    h.emu.script(CLAUDE_TOO_LONG);
    await assert.rejects(
      client.messages.create({ model: 'opus-5', max_tokens: 100, messages: [{ role: 'user', content: 'x' }] }),
      (err: unknown) => {
        assert.ok(err instanceof Anthropic.BadRequestError, String(err));
        assert.match(err.message, /prompt is too long: 227255 tokens > 200000 maximum/);
        return true;
      },
    );
  } finally {
    await h.close();
  }
});

test('context overflow: the max_tokens the sidecar chose is sent again with the room Claude names; a client’s is not', async () => {
  const h = await startHarness({ models: MODELS });
  const client = new OpenAI({ baseURL: `${h.url}/v1`, apiKey: 'unused', maxRetries: 0 });
  try {
    h.emu.script(NO_ROOM, { type: 'text', text: 'done' });
    const before = h.emu.requests.length;
    const answer = await client.chat.completions.create({ model: 'opus-5', messages: [{ role: 'user', content: 'x' }] });
    assert.equal(answer.choices[0]!.message.content, 'done');
    const sent = h.emu.requests.slice(before).map((r) => (r.json as Json).max_tokens);
    assert.deepEqual(sent, [32000, 10000]);
    assert.ok(h.logs.some((l) => /leaves the input no room/.test(String(l.msg))));

    h.emu.script(NO_ROOM);
    const asked = h.emu.requests.length;
    await assert.rejects(
      client.chat.completions.create({ model: 'opus-5', max_tokens: 32000, messages: [{ role: 'user', content: 'x' }] }),
      (err: unknown) => err instanceof OpenAI.BadRequestError && err.code === 'context_length_exceeded',
    );
    assert.equal(h.emu.requests.length, asked + 1, 'the client’s own max_tokens is not changed');
  } finally {
    await h.close();
  }
});
