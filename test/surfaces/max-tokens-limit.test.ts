// A max_tokens above the model's output limit (docs/contract.md#parameters): Bedrock refuses the call and
// names the limit; an alias's clients cannot know its model's limit (Claude Code asks 32000 of any model it
// does not know), so the sidecar sends the request once more at that limit, and the answer comes. Bedrock's
// own API (the native surface) gets Bedrock's own answer. The emulator holds the limits of the Claude models.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import OpenAI from 'openai';
import { startHarness, type Harness } from '../helpers/harness.ts';
import { outputTokenLimit } from '../../src/upstream/bedrock-errors.ts';
import { SidecarError } from '../../src/errors.ts';

const HAIKU_35 = 'us.anthropic.claude-3-5-haiku-20241022-v1:0';
const MODELS = [
  { name: 'haiku-invoke', model: `bedrock/invoke/${HAIKU_35}`, region: 'us-east-1' },
  { name: 'haiku-converse', model: `bedrock/converse/${HAIKU_35}`, region: 'us-east-1' },
];

type Json = Record<string, unknown>;
const bodies = (h: Harness, since: number): Json[] => h.emu.requests.slice(since).map((r) => JSON.parse(r.body.toString('utf8')) as Json);

test('max_tokens limit: the limit is read from both of Bedrock’s wordings, and from nothing else', () => {
  const refusal = (message: string, status = 400): SidecarError =>
    new SidecarError('invalid_request_error', `Bedrock: ValidationException: ${message}`, { upstreamStatus: status });
  assert.equal(
    outputTokenLimit(
      refusal(
        'The maximum tokens you requested exceeds the model limit of 4096. Try again with a maximum tokens value that is lower than 4096.',
      ),
    ),
    4096,
  );
  assert.equal(
    outputTokenLimit(
      refusal(
        'The model returned the following errors: max_tokens: 64001 > 64000, which is the maximum allowed number of output tokens for claude-sonnet-4-5',
      ),
    ),
    64000,
  );
  assert.equal(outputTokenLimit(refusal('Input is too long for requested model.')), undefined);
  assert.equal(outputTokenLimit(new SidecarError('rate_limit_error', 'exceeds the model limit of 5', { upstreamStatus: 429 })), undefined);
});

test('max_tokens limit: Messages (invoke) and Chat (converse) asking more than Claude 3.5 Haiku gives are sent again at 8192 and answered', async () => {
  const h = await startHarness({ models: MODELS });
  try {
    let since = h.emu.requests.length;
    h.emu.script({ type: 'text', text: 'pong' });
    const response = await fetch(`${h.url}/v1/messages`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'anthropic-version': '2023-06-01' },
      body: JSON.stringify({ model: 'haiku-invoke', max_tokens: 32000, stream: true, messages: [{ role: 'user', content: 'ping' }] }),
    });
    const text = await response.text();
    assert.equal(response.status, 200, text);
    assert.ok(text.includes('pong') && text.includes('message_stop'), text);
    assert.deepEqual(
      bodies(h, since).map((b) => b.max_tokens),
      [32000, 8192],
    );
    assert.ok(
      h.logs.some(
        (line) =>
          line.level === 'warn' && String(line.msg).includes(`max_tokens above the output limit of ${HAIKU_35}: sent again with 8192`),
      ),
    );

    since = h.emu.requests.length;
    h.emu.script({ type: 'text', text: 'pong' });
    const client = new OpenAI({ baseURL: `${h.url}/v1`, apiKey: 'unused', maxRetries: 0 });
    const answer = await client.chat.completions.create({
      model: 'haiku-converse',
      max_completion_tokens: 10000,
      messages: [{ role: 'user', content: 'ping' }],
    });
    assert.equal(answer.choices[0]!.message.content, 'pong');
    assert.deepEqual(
      bodies(h, since).map((b) => (b.inferenceConfig as Json).maxTokens),
      [10000, 8192],
    );

    // Within the limit: one call, as asked.
    since = h.emu.requests.length;
    h.emu.script({ type: 'text', text: 'pong' });
    await client.chat.completions.create({
      model: 'haiku-converse',
      max_completion_tokens: 100,
      messages: [{ role: 'user', content: 'ping' }],
    });
    assert.equal(bodies(h, since).length, 1);
  } finally {
    await h.close();
  }
});

test("max_tokens limit: an AWS SDK app's own InvokeModel body gets Bedrock's 400, not a second call", async () => {
  const h = await startHarness({ models: MODELS });
  try {
    const since = h.emu.requests.length;
    const response = await fetch(`${h.url}/model/${encodeURIComponent(HAIKU_35)}/invoke`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ anthropic_version: 'bedrock-2023-05-31', max_tokens: 32000, messages: [{ role: 'user', content: 'ping' }] }),
    });
    assert.equal(response.status, 400);
    assert.equal(response.headers.get('x-amzn-errortype')?.split(':')[0], 'ValidationException');
    assert.match(((await response.json()) as { message: string }).message, /exceeds the model limit of 8192/);
    assert.equal(h.emu.requests.length - since, 1);
  } finally {
    await h.close();
  }
});
