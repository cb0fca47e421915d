/**
 * The AI SDK as the tests drive it, whatever provider it is given: a guardrail block must reach the app as an
 * error carrying "Violated guardrail policy", streamed (`streamText`'s `onError`, no blocked text among the
 * deltas) and whole (`generateText` rejects), never as a finished answer.
 */
import assert from 'node:assert/strict';
import { generateText, streamText, type LanguageModel } from 'ai';
import type { Harness } from './harness.ts';

/**
 * Scripts `blockedText` (which the alias's output guardrail blocks: it contains `blockedWord`) twice and asks
 * `model` for it, streamed and then whole.
 */
export async function assertGuardrailBlocks(h: Harness, model: LanguageModel, blockedText: string, blockedWord: string): Promise<void> {
  h.emu.script({ type: 'text', text: blockedText });
  const errors: unknown[] = [];
  const result = streamText({ model, prompt: 'x', maxRetries: 0, onError: ({ error }) => void errors.push(error) });
  let text = '';
  for await (const part of result.fullStream) if (part.type === 'text-delta') text += part.text;
  assert.equal(text.includes(blockedWord), false);
  assert.equal(errors.length, 1);
  assert.match(JSON.stringify(errors[0], Object.getOwnPropertyNames(errors[0])) + String(errors[0]), /Violated guardrail policy/);

  h.emu.script({ type: 'text', text: blockedText });
  await assert.rejects(generateText({ model, prompt: 'x', maxRetries: 0 }), /Violated guardrail policy/);
}
