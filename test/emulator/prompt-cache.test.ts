// The emulator's prompt caching: Bedrock's cache-point rules (at most 4, TTLs non-increasing tools → system →
// messages, only models that cache, 1h only where AWS lists it) answered as 400s, and a repeated prefix
// reported as a cache read after the first call wrote it — on converse and on Claude's invoke body. Also
// the service tier / latency a call asked for, echoed as Bedrock reports what served it.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { TTL_ORDER, tooManyPoints } from '../../src/emulator/prompt-cache.ts';
import { claudeBody, post } from './helpers.ts';
import { withEmulator } from '../helpers/emulator.ts';

const LONG = 'The quick brown fox jumps over the lazy dog. '.repeat(200); // ~2250 tokens at 4 bytes a token
const point = (ttl?: string): Record<string, unknown> => ({ cachePoint: { type: 'default', ...(ttl ? { ttl } : {}) } });

function converseBody(system: unknown[], content: unknown[] = [{ text: 'hi' }], extra: Record<string, unknown> = {}): string {
  return JSON.stringify({ system, messages: [{ role: 'user', content }], ...extra });
}

test('emulator prompt cache: converse cache-point rules are 400s naming the rule', async () => {
  await withEmulator(async (emu) => {
    const id = encodeURIComponent('us.anthropic.claude-sonnet-4-5-20250929-v1:0');
    const five = await post(
      emu.url,
      `/model/${id}/converse`,
      converseBody(
        [{ text: LONG }, point()],
        [{ text: 'a' }, point(), { text: 'b' }, point(), { text: 'c' }, point(), { text: 'd' }, point()],
      ),
    );
    assert.equal(five.status, 400);
    assert.deepEqual(JSON.parse(five.body.toString()), { message: tooManyPoints(5) });
    const order = await post(emu.url, `/model/${id}/converse`, converseBody([{ text: LONG }, point('5m')], [{ text: 'a' }, point('1h')]));
    assert.equal(order.status, 400);
    assert.deepEqual(JSON.parse(order.body.toString()), { message: TTL_ORDER });
    // In the messages: Titan takes no system prompt at all (converse.ts).
    const titan = await post(emu.url, `/model/amazon.titan-text-express-v1/converse`, converseBody([], [{ text: LONG }, point()]));
    assert.equal(titan.status, 400);
    assert.match(JSON.parse(titan.body.toString()).message as string, /does not support prompt caching/);
    const hour = await post(
      emu.url,
      `/model/${encodeURIComponent('anthropic.claude-3-7-sonnet-20250219-v1:0')}/converse`,
      converseBody([{ text: LONG }, point('1h')]),
    );
    assert.equal(hour.status, 400);
    assert.match(JSON.parse(hour.body.toString()).message as string, /1h/);
    const novaTools = await post(
      emu.url,
      `/model/us.amazon.nova-lite-v1%3A0/converse`,
      converseBody([{ text: 'x' }], [{ text: 'hi' }], {
        toolConfig: { tools: [{ toolSpec: { name: 'f', inputSchema: { json: { type: 'object' } } } }, point()] },
      }),
    );
    assert.equal(novaTools.status, 400);
    const ok = await post(emu.url, `/model/${id}/converse`, converseBody([{ text: LONG }, point('1h')], [{ text: 'a' }, point('5m')]));
    assert.equal(ok.status, 200);
  });
});

test('emulator prompt cache: a repeated converse prefix is a cache read, a new one a write, a short one neither', async () => {
  await withEmulator(async (emu) => {
    const id = encodeURIComponent('us.anthropic.claude-sonnet-4-5-20250929-v1:0');
    const first = JSON.parse((await post(emu.url, `/model/${id}/converse`, converseBody([{ text: LONG }, point()]))).body.toString());
    assert.ok(first.usage.cacheWriteInputTokens > 1024, JSON.stringify(first.usage));
    assert.equal(first.usage.cacheReadInputTokens, 0);
    const second = JSON.parse(
      (
        await post(emu.url, `/model/${id}/converse`, converseBody([{ text: LONG }, point()], [{ text: 'another question' }]))
      ).body.toString(),
    );
    assert.equal(second.usage.cacheReadInputTokens, first.usage.cacheWriteInputTokens);
    assert.equal(second.usage.cacheWriteInputTokens, 0);
    const short = JSON.parse((await post(emu.url, `/model/${id}/converse`, converseBody([{ text: 'short' }, point()]))).body.toString());
    assert.equal(short.usage.cacheReadInputTokens, 0);
    assert.equal(short.usage.cacheWriteInputTokens, 0);
  });
});

test('emulator prompt cache: Claude invoke counts cache_control blocks and reports cache tokens', async () => {
  await withEmulator(async (emu) => {
    const id = encodeURIComponent('us.anthropic.claude-sonnet-4-5-20250929-v1:0');
    const marked = (text: string): Record<string, unknown> => ({ type: 'text', text, cache_control: { type: 'ephemeral' } });
    const tooMany = await post(
      emu.url,
      `/model/${id}/invoke`,
      JSON.stringify(
        claudeBody('hi', {
          system: [marked(LONG)],
          messages: [{ role: 'user', content: [marked('a'), marked('b'), marked('c'), marked('d')] }],
        }),
      ),
    );
    assert.equal(tooMany.status, 400);
    assert.deepEqual(JSON.parse(tooMany.body.toString()), { message: tooManyPoints(5) });
    const body = JSON.stringify(claudeBody('hi', { system: [marked(LONG)] }));
    const first = JSON.parse((await post(emu.url, `/model/${id}/invoke`, body)).body.toString());
    const second = JSON.parse((await post(emu.url, `/model/${id}/invoke`, body)).body.toString());
    assert.ok(first.usage.cache_creation_input_tokens > 1024);
    assert.equal(second.usage.cache_read_input_tokens, first.usage.cache_creation_input_tokens);
  });
});

test('emulator service tier: converse echoes serviceTier / performanceConfig, reserved is "Reservation not found.", invoke echoes the headers', async () => {
  await withEmulator(async (emu) => {
    const id = encodeURIComponent('us.anthropic.claude-sonnet-4-5-20250929-v1:0');
    const served = JSON.parse(
      (
        await post(
          emu.url,
          `/model/${id}/converse`,
          converseBody([{ text: 's' }], [{ text: 'hi' }], {
            serviceTier: { type: 'flex' },
            performanceConfig: { latency: 'optimized' },
          }),
        )
      ).body.toString(),
    );
    assert.deepEqual(served.serviceTier, { type: 'flex' });
    assert.deepEqual(served.performanceConfig, { latency: 'optimized' });
    const reserved = await post(
      emu.url,
      `/model/${id}/converse`,
      converseBody([{ text: 's' }], [{ text: 'hi' }], { serviceTier: { type: 'reserved' } }),
    );
    assert.equal(reserved.status, 400);
    assert.deepEqual(JSON.parse(reserved.body.toString()), { message: 'Reservation not found.' });
    const bare = await post(emu.url, `/model/${id}/converse`, converseBody([{ text: 's' }], [{ text: 'hi' }], { serviceTier: 'flex' }));
    assert.equal(bare.status, 400, 'a bare string is not a ServiceTier');
    const invoke = await post(emu.url, `/model/${id}/invoke`, JSON.stringify(claudeBody('hi')), {
      headers: { 'X-Amzn-Bedrock-Service-Tier': 'priority' },
    });
    assert.equal(invoke.status, 200);
    assert.equal(invoke.headers['x-amzn-bedrock-service-tier'], 'priority');
    const wrong = await post(emu.url, `/model/${id}/invoke`, JSON.stringify(claudeBody('hi')), {
      headers: { 'X-Amzn-Bedrock-Service-Tier': 'scale' },
    });
    assert.equal(wrong.status, 400);
  });
});
