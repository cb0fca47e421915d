/**
 * Mid-conversation tool changes (`tool_addition` / `tool_removal` in a `role: "system"` message) through the
 * Messages surface: Bedrock takes them on no model, so the sidecar refuses them before any call, with the code
 * Anthropic's API gives where they are not supported (`error.details.error_code`), which Claude Code 2.1.332
 * falls back on (announcing late tools its other way) and the SDK hands to the app. Plain system text still goes,
 * for as long as its `clear_at` says.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import Anthropic from '@anthropic-ai/sdk';
import { startHarness, type Harness } from '../helpers/harness.ts';

const CLAUDE = { name: 'claude', model: 'bedrock/invoke/us.anthropic.claude-sonnet-4-5-20250929-v1:0', region: 'us-east-1' };
const NOVA = { name: 'nova', model: 'bedrock/converse/us.amazon.nova-pro-v1:0', region: 'us-east-1' };

async function rig(): Promise<{ h: Harness; client: Anthropic }> {
  const h = await startHarness({ models: [CLAUDE, NOVA] });
  return { h, client: new Anthropic({ baseURL: h.url, apiKey: 'unused', maxRetries: 0 }) };
}

const WEATHER = {
  name: 'get_weather',
  description: 'Weather for a city',
  input_schema: { type: 'object', properties: { city: { type: 'string' } } },
};

/** A conversation whose third message adds a tool mid-way (what the SDK's BetaToolRunner.addTools() sends). */
function withToolChange(change: Record<string, unknown>): Anthropic.Beta.Messages.MessageCreateParamsNonStreaming {
  return {
    model: 'claude',
    max_tokens: 50,
    messages: [
      { role: 'user', content: 'hello' },
      { role: 'assistant', content: 'hi' },
      { role: 'system', content: [{ type: 'text', text: 'A tool arrived.' }, change] },
      { role: 'user', content: 'weather in Paris?' },
    ],
  } as unknown as Anthropic.Beta.Messages.MessageCreateParamsNonStreaming;
}

async function refusal(call: Promise<unknown>): Promise<InstanceType<typeof Anthropic.APIError>> {
  const error = await call.then(
    () => assert.fail('the request was answered'),
    (e: unknown) => e,
  );
  assert.ok(error instanceof Anthropic.APIError, String(error));
  return error;
}

test('messages: a tool_addition or tool_removal is refused with error.details.error_code mid_conversation_tool_changes_not_supported', async () => {
  const { h, client } = await rig();
  try {
    const changes: Array<[string, Record<string, unknown>]> = [
      ['tool_addition', { type: 'tool_addition', tool: { type: 'tool_definition', definition: WEATHER } }],
      ['tool_removal', { type: 'tool_removal', tool: { type: 'tool_reference', name: 'get_weather' } }],
    ];
    for (const [type, change] of changes) {
      for (const model of ['claude', 'nova']) {
        const error = await refusal(client.beta.messages.create({ ...withToolChange(change), model }));
        assert.equal(error.status, 400);
        const body = error.error as { type: string; error: { type: string; message: string; details?: { error_code?: string } } };
        assert.equal(body.error.type, 'invalid_request_error');
        // Where Claude Code 2.1.332 looks (e.error.error.details.error_code) to fall back for the rest of the session.
        assert.equal(body.error.details?.error_code, 'mid_conversation_tool_changes_not_supported');
        assert.match(body.error.message, new RegExp(`^messages\\[2\\]\\.content\\[1\\]: ${type} \\(a mid-conversation tool change\\)`));
      }
      // Streamed, the refusal comes before the commit: the same 400.
      const streamed = await refusal(client.beta.messages.create({ ...withToolChange(change), stream: true }));
      assert.equal(streamed.status, 400);
      // count_tokens reads the same body.
      const counted = await refusal(client.beta.messages.countTokens(withToolChange(change)));
      assert.equal(
        (counted.error as { error: { details?: { error_code?: string } } }).error.details?.error_code,
        'mid_conversation_tool_changes_not_supported',
      );
    }
    assert.equal(h.emu.requests.length, 0, 'nothing reached Bedrock');
  } finally {
    await h.close();
  }
});

test('messages: a system message of text alone still goes, and other refusals carry no error code', async () => {
  const { h, client } = await rig();
  try {
    h.emu.script({ type: 'text', text: 'sunny' });
    const message = await client.beta.messages.create({
      model: 'claude',
      max_tokens: 50,
      messages: [
        { role: 'user', content: 'hello' },
        { role: 'assistant', content: 'hi' },
        { role: 'system', content: [{ type: 'text', text: 'Be brief.' }] },
        { role: 'user', content: 'weather?' },
      ],
    } as unknown as Anthropic.Beta.Messages.MessageCreateParamsNonStreaming);
    assert.deepEqual(
      message.content.map((b) => b.type),
      ['text'],
    );
    const error = await refusal(
      client.beta.messages.create({
        model: 'claude',
        max_tokens: 50,
        messages: [{ role: 'system', content: [{ type: 'image', source: { type: 'base64', media_type: 'image/png', data: 'AA==' } }] }],
      } as unknown as Anthropic.Beta.Messages.MessageCreateParamsNonStreaming),
    );
    assert.equal(error.status, 400);
    assert.deepEqual(Object.keys((error.error as { error: Record<string, unknown> }).error).sort(), ['message', 'type']);
  } finally {
    await h.close();
  }
});

test('messages: a system message with clear_at next_user_message is shown for its turn only, on invoke and on converse', async () => {
  const { h, client } = await rig();
  try {
    const reminder = { role: 'system', content: 'Plan mode is on.', clear_at: 'next_user_message' };
    const sentText = (): string => h.emu.requests.at(-1)!.body.toString('utf8');
    for (const model of ['claude', 'nova']) {
      const ask = (messages: unknown[]): Promise<unknown> =>
        client.beta.messages.create({
          model,
          max_tokens: 50,
          messages,
        } as unknown as Anthropic.Beta.Messages.MessageCreateParamsNonStreaming);
      // The turn it follows: shown (as a reminder on Claude's body, as system text on Converse).
      h.emu.script({ type: 'text', text: 'ok' });
      await ask([{ role: 'user', content: 'hello' }, reminder]);
      assert.match(sentText(), /Plan mode is on\./, `${model}: shown for the turn it follows`);
      // A later user message: it stays in the array, unseen by the model.
      h.emu.script({ type: 'text', text: 'ok' });
      await ask([{ role: 'user', content: 'hello' }, reminder, { role: 'assistant', content: 'ok' }, { role: 'user', content: 'next' }]);
      assert.doesNotMatch(sentText(), /Plan mode/, `${model}: cleared once a later user message exists`);
      assert.match(sentText(), /next/);
      // clear_at never (the default): shown on every turn, as before.
      h.emu.script({ type: 'text', text: 'ok' });
      await ask([
        { role: 'user', content: 'hello' },
        { ...reminder, clear_at: 'never' },
        { role: 'assistant', content: 'ok' },
        { role: 'user', content: 'next' },
      ]);
      assert.match(sentText(), /Plan mode is on\./, `${model}: clear_at never keeps it`);
    }
    const error = await refusal(
      client.beta.messages.create({
        model: 'claude',
        max_tokens: 50,
        messages: [
          { role: 'user', content: 'hello' },
          { ...reminder, clear_at: 'later' },
        ],
      } as unknown as Anthropic.Beta.Messages.MessageCreateParamsNonStreaming),
    );
    assert.equal(error.status, 400);
    assert.match(error.message, /messages\[1\]\.clear_at must be "next_user_message" or "never"/);
  } finally {
    await h.close();
  }
});

test("messages: Claude Code's per-turn system message with no text ({content: [], output_config}) sends nothing to the model", async () => {
  const { h, client } = await rig();
  try {
    for (const model of ['claude', 'nova']) {
      h.emu.script({ type: 'text', text: 'ok' });
      await client.beta.messages.create({
        model,
        max_tokens: 50,
        // What Claude Code 2.1.332 appends for a per-turn output setting (its statementAfter).
        messages: [
          { role: 'user', content: 'hello' },
          { role: 'assistant', content: 'hi' },
          { role: 'user', content: 'next' },
          { role: 'system', content: [], output_config: { effort: 'low' } },
        ],
      } as unknown as Anthropic.Beta.Messages.MessageCreateParamsNonStreaming);
      const sent = h.emu.requests.at(-1)!.body.toString('utf8');
      assert.doesNotMatch(sent, /system-reminder/, `${model}: no empty reminder`);
      const body = JSON.parse(sent) as { messages: Array<{ role: string }> };
      assert.deepEqual(
        body.messages.map((m) => m.role),
        ['user', 'assistant', 'user'],
        `${model}: the conversation as it was, ending on the user's turn`,
      );
    }
  } finally {
    await h.close();
  }
});
