/**
 * A client's `"type": "constructor"` (or `__proto__`, `toString`) is a value like any other: the sidecar's lookup
 * tables are read by their own keys only, so such a value is an unknown block type, edit, media type or member —
 * dropped and logged, or a 400 naming it — never Object's member and a 500 (attack16: each was a 500 or a body
 * Bedrock refused without the sidecar's words).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import Anthropic from '@anthropic-ai/sdk';
import { ConverseCommand } from '@aws-sdk/client-bedrock-runtime';
import { withHarness, type Harness } from '../helpers/harness.ts';
import { nativeClient } from './bedrock-native-helpers.ts';

const OPUS = { name: 'opus', model: 'bedrock/invoke/anthropic.claude-opus-4-6-v1', region: 'us-east-1' };
const OPUS_CONVERSE = { name: 'opus-converse', model: 'bedrock/converse/anthropic.claude-opus-4-6-v1', region: 'us-east-1' };
const KEYS = ['constructor', '__proto__', 'toString'] as const;

/** A sidecar with both aliases and an Anthropic client of it, closed after `run`. */
function withRig(run: (h: Harness, client: Anthropic) => Promise<void>): Promise<void> {
  return withHarness({ models: [OPUS, OPUS_CONVERSE] }, (h) => run(h, new Anthropic({ baseURL: h.url, apiKey: 'unused', maxRetries: 0 })));
}

function upstream(h: Harness): Record<string, unknown> {
  return JSON.parse(h.emu.requests.at(-1)!.body.toString('utf8')) as Record<string, unknown>;
}

test('messages: a block of type "constructor" to Claude on invoke is dropped and logged like any unknown block, not a 500', () =>
  withRig(async (h, client) => {
    for (const type of KEYS) {
      h.emu.script({ type: 'text', text: 'ok' });
      const answer = await client.messages.create({
        model: 'opus',
        max_tokens: 32,
        messages: [{ role: 'user', content: [{ type, text: 'odd' } as unknown as Anthropic.TextBlockParam, { type: 'text', text: 'hi' }] }],
      });
      assert.equal(answer.content[0]?.type, 'text', type);
      const messages = upstream(h).messages as Array<{ content: unknown[] }>;
      assert.deepEqual(messages[0]!.content, [{ type: 'text', text: 'hi' }], type);
      assert.match(JSON.stringify(h.logs), new RegExp(`takes no \\\\"${type}\\\\" block`));
    }
  }));

test('messages: a context_management edit of type "constructor" is dropped and logged like any unknown edit, not a 500', () =>
  withRig(async (h, client) => {
    for (const type of KEYS) {
      h.emu.script({ type: 'text', text: 'ok' });
      await client.beta.messages.create({
        model: 'opus',
        max_tokens: 32,
        context_management: { edits: [{ type } as unknown as Anthropic.Beta.BetaClearToolUses20250919Edit] },
        messages: [{ role: 'user', content: 'hi' }],
      });
      assert.equal(upstream(h).context_management, undefined, type);
      assert.match(JSON.stringify(h.logs), new RegExp(`Bedrock is not sent a \\\\"${type}\\\\" edit`));
    }
  }));

test('messages: a document of media type "constructor" to a translated body is a 400 naming the block, not a 500', () =>
  withRig(async (h, client) => {
    for (const mediaType of KEYS) {
      const error = await client.messages
        .create({
          model: 'opus-converse',
          max_tokens: 32,
          messages: [
            {
              role: 'user',
              content: [
                {
                  type: 'document',
                  source: { type: 'base64', media_type: mediaType, data: 'aGVsbG8=' },
                } as unknown as Anthropic.DocumentBlockParam,
                { type: 'text', text: 'hi' },
              ],
            },
          ],
        })
        .then(
          () => assert.fail('expected a 400'),
          (e: unknown) => e,
        );
      assert.ok(error instanceof Anthropic.BadRequestError, mediaType);
      assert.match(error.message, new RegExp(`messages\\[0\\]\\.content\\[0\\] \\(a ${mediaType} document, which Bedrock does not read`));
    }
    assert.equal(h.emu.requests.length, 0);
  }));

test('native: a Converse member "constructor" gets Bedrock\'s extraneous-key 400, and an invoke image of that media type the sidecar\'s', () =>
  withRig(async (h) => {
    for (const key of KEYS) {
      const res = await fetch(`${h.url}/model/anthropic.claude-opus-4-6-v1/converse`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: `{"messages":[{"role":"user","content":[{"text":"hi"}]}],"${key}":1}`,
      });
      assert.equal(res.status, 400, key);
      assert.deepEqual(await res.json(), { message: `Malformed input request: extraneous key [${key}] is not permitted` });
    }
    // A Claude body to the converse alias is translated: its image is read by the sidecar.
    for (const mediaType of KEYS) {
      const res = await fetch(`${h.url}/model/opus-converse/invoke`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({
          anthropic_version: 'bedrock-2023-05-31',
          max_tokens: 16,
          messages: [{ role: 'user', content: [{ type: 'image', source: { type: 'base64', media_type: mediaType, data: 'aGVsbG8=' } }] }],
        }),
      });
      assert.equal(res.status, 400, mediaType);
      assert.match(
        ((await res.json()) as { message: string }).message,
        /content\.0\.source: must be a base64 png, jpeg, gif or webp image/,
      );
    }
    assert.equal(h.emu.requests.length, 0);
    // And the SDK's own Converse still goes (the lookups changed nothing for real members).
    h.emu.script({ type: 'text', text: 'ok' });
    const out = await nativeClient(h).send(
      new ConverseCommand({ modelId: 'anthropic.claude-opus-4-6-v1', messages: [{ role: 'user', content: [{ text: 'hi' }] }] }),
    );
    assert.equal(out.output?.message?.content?.[0]?.text, 'ok');
  }));
