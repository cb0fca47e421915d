/**
 * A real client: the official `openai` SDK consuming a stream the guardrail blocks after the 200 must
 * surface the error — neither hang nor end as if the answer were complete.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import OpenAI from 'openai';
import { longReply, startRig, upstreamDone, withTimeout } from './helpers.ts';

for (const mode of ['sync', 'async'] as const) {
  test(`openai SDK: a stream blocked by a guardrail (${mode}) throws an APIError "Violated guardrail policy"`, async () => {
    const rig = await startRig({
      guardrails: [
        { name: 'corp-policy', type: 'bedrock', id: 'gr0corp', version: '1', stages: ['output'], stream_mode: mode, interval_chars: 100 },
      ],
      attach: ['corp-policy'],
      emulator: { guardrails: { blockTerms: ['project nightingale'] } },
    });
    try {
      rig.emu.script(longReply(500, 'Project Nightingale'));
      const client = new OpenAI({ baseURL: `${rig.url}/v1`, apiKey: 'x', maxRetries: 0 });
      const consume = async (): Promise<{ text: string; error: unknown }> => {
        let text = '';
        try {
          const s = await client.chat.completions.create({
            model: 'claude-invoke',
            messages: [{ role: 'user', content: 'hi' }],
            stream: true,
          });
          for await (const chunk of s) text += chunk.choices[0]?.delta?.content ?? '';
          return { text, error: undefined };
        } catch (error) {
          return { text, error };
        }
      };
      const { text, error } = await withTimeout(consume(), 10_000, 'the SDK hung on a blocked stream');
      assert.ok(error instanceof OpenAI.APIError, `the SDK surfaced ${String(error)} after ${text.length} characters`);
      assert.match(error.message, /Violated guardrail policy/);
      assert.equal(error.type, 'guardrail_violation');
      assert.equal(error.code, 400);
      if (mode === 'sync') assert.ok(!text.toLowerCase().includes('nightingale'));
      assert.equal((await upstreamDone(rig)).clientAborted, true);
    } finally {
      await rig.close();
    }
  });
}

test('openai SDK: a non-streaming block is a BadRequestError naming the guardrail', async () => {
  const rig = await startRig({
    guardrails: [{ name: 'no-secrets', type: 'regex', patterns: ['(?i)nightingale'] }],
    attach: ['no-secrets'],
  });
  try {
    rig.emu.script({ type: 'text', text: 'the nightingale' });
    const client = new OpenAI({ baseURL: `${rig.url}/v1`, apiKey: 'x', maxRetries: 0 });
    await assert.rejects(
      client.chat.completions.create({ model: 'claude-invoke', messages: [{ role: 'user', content: 'hi' }] }),
      (error: unknown) => {
        assert.ok(error instanceof OpenAI.BadRequestError);
        assert.match(error.message, /Violated guardrail policy/);
        assert.equal((error.error as { guardrail?: string }).guardrail, 'no-secrets');
        return true;
      },
    );
  } finally {
    await rig.close();
  }
});
