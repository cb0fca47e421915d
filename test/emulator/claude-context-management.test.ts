// The emulator's reading of Claude's context management on Bedrock (src/emulator/families/anthropic.ts):
// `context_management` only with the beta of each edit ("context_management: Extra inputs are not permitted"),
// the compact beta on the models that compact and never on Converse, thinking clearing only with thinking on, and a
// scripted compaction rendered as Anthropic's block — streamed as start / one compaction_delta / stop, whole in
// `content` — with stop reason `compaction` when the request asked to pause after it.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { chunkEvents, claudeBody, decodeFrames, post } from './helpers.ts';
import { withEmulator } from '../helpers/emulator.ts';

const OPUS_46 = 'anthropic.claude-opus-4-6-v1';
const SONNET_45 = 'us.anthropic.claude-sonnet-4-5-20250929-v1:0';
const COMPACT = { type: 'compact_20260112', trigger: { type: 'input_tokens', value: 50000 } };
const CLEAR_TOOLS = { type: 'clear_tool_uses_20250919', keep: { type: 'tool_uses', value: 1 } };

async function invoke(url: string, modelId: string, body: unknown, stream = false): Promise<{ status: number; body: Buffer }> {
  return post(url, `/model/${encodeURIComponent(modelId)}/${stream ? 'invoke-with-response-stream' : 'invoke'}`, JSON.stringify(body));
}

function message(raw: Buffer): unknown {
  return (JSON.parse(raw.toString()) as { message: unknown }).message;
}

test('emulator context management: each edit needs its beta, else Bedrock says the member is an extra input', async () => {
  await withEmulator(async (emu) => {
    const cases: Array<[string, unknown[], string[], string | undefined]> = [
      ['tool clearing without a beta', [CLEAR_TOOLS], [], 'context_management: Extra inputs are not permitted'],
      [
        'compaction with the other beta only',
        [COMPACT],
        ['context-management-2025-06-27'],
        'context_management: Extra inputs are not permitted',
      ],
      ['tool clearing with its beta', [CLEAR_TOOLS], ['context-management-2025-06-27'], undefined],
      ['compaction with its beta', [COMPACT], ['compact-2026-01-12'], undefined],
      ['both', [COMPACT, CLEAR_TOOLS], ['compact-2026-01-12', 'context-management-2025-06-27'], undefined],
    ];
    for (const [what, edits, betas, refusal] of cases) {
      const body = claudeBody('hi', { context_management: { edits }, ...(betas.length > 0 ? { anthropic_beta: betas } : {}) });
      const answer = await invoke(emu.url, OPUS_46, body);
      if (refusal === undefined) assert.equal(answer.status, 200, `${what}: ${answer.body.toString()}`);
      else assert.deepEqual([answer.status, message(answer.body)], [400, refusal], what);
    }
  });
});

test('emulator context management: thinking clearing needs thinking on; the compact beta only where the model compacts; Converse refuses it', async () => {
  await withEmulator(async (emu) => {
    const clearThinking = claudeBody('hi', {
      anthropic_beta: ['context-management-2025-06-27'],
      context_management: { edits: [{ type: 'clear_thinking_20251015', keep: 'all' }] },
    });
    const refused = await invoke(emu.url, SONNET_45, clearThinking);
    assert.deepEqual(
      [refused.status, message(refused.body)],
      [400, 'clear_thinking_20251015 strategy requires thinking to be enabled or adaptive'],
    );
    const older = await invoke(emu.url, SONNET_45, claudeBody('hi', { anthropic_beta: ['compact-2026-01-12'] }));
    assert.deepEqual([older.status, message(older.body)], [400, 'invalid beta flag']);
    const converse = await post(
      emu.url,
      `/model/${encodeURIComponent(OPUS_46)}/converse`,
      JSON.stringify({
        messages: [{ role: 'user', content: [{ text: 'hi' }] }],
        additionalModelRequestFields: { anthropic_beta: ['compact-2026-01-12'] },
      }),
    );
    assert.deepEqual(
      [converse.status, message(converse.body)],
      [400, 'The compact beta feature is not currently supported on the Converse and ConverseStream APIs'],
    );
  });
});

test('emulator compaction: a scripted compaction is the first block, whole and streamed, and pauses when asked', async () => {
  await withEmulator(async (emu) => {
    const body = (pause: boolean): unknown =>
      claudeBody('hi', {
        anthropic_beta: ['compact-2026-01-12'],
        context_management: { edits: [{ ...COMPACT, pause_after_compaction: pause }] },
      });
    const compaction = { content: 'Summary: the user said hi.', encryptedContent: 'ZW5jcnlwdGVk' };
    emu.script({ type: 'text', text: 'Hello!', compaction, usage: { inputTokens: 60000, outputTokens: 4 } });
    const whole = JSON.parse((await invoke(emu.url, OPUS_46, body(false))).body.toString()) as Record<string, unknown>;
    assert.deepEqual(whole.content, [
      { type: 'compaction', content: compaction.content, encrypted_content: compaction.encryptedContent },
      { type: 'text', text: 'Hello!' },
    ]);
    assert.equal(whole.stop_reason, 'end_turn');
    assert.deepEqual(whole.context_management, { applied_edits: [{ type: 'compact_20260112' }] });
    assert.deepEqual(
      ((whole.usage as Record<string, unknown>).iterations as Array<Record<string, unknown>>).map((i) => i.type),
      ['compaction', 'message'],
    );

    emu.script({ type: 'text', text: 'Hello!', compaction });
    const streamed = await invoke(emu.url, OPUS_46, body(true), true);
    assert.equal(streamed.status, 200);
    const events = chunkEvents(decodeFrames(streamed.body));
    assert.deepEqual(events.slice(1, 4), [
      { type: 'content_block_start', index: 0, content_block: { type: 'compaction', content: null } },
      {
        type: 'content_block_delta',
        index: 0,
        delta: { type: 'compaction_delta', content: compaction.content, encrypted_content: compaction.encryptedContent },
      },
      { type: 'content_block_stop', index: 0 },
    ]);
    assert.deepEqual((events[4]!.delta as Record<string, unknown>).stop_reason, 'compaction');
    assert.deepEqual(events[4]!.context_management, { applied_edits: [{ type: 'compact_20260112' }] });
    assert.equal(events[5]!.type, 'message_stop');
    assert.equal(events.length, 6, 'nothing after the compaction but the ending');

    emu.script({ type: 'text', text: 'Hello!', compaction });
    const unasked = await invoke(emu.url, OPUS_46, claudeBody('hi'));
    assert.equal(unasked.status, 500, 'a compaction the request did not ask for is the script’s mistake');
  });
});
