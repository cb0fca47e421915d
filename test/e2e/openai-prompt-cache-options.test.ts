/**
 * OpenAI's own prompt-cache controls through the official `openai` SDK, Chat Completions and Responses
 * (docs/contract.md#request-rules): a part's `prompt_cache_breakpoint` is a cache point (its 30m / 12h
 * lifetime mapped to Bedrock's 1h where the model takes it, else 5m), `prompt_cache_options.mode: "explicit"`
 * keeps an alias's automatic points off, `prompt_cache_retention`, `prewarm` and `comparison_response_id` are
 * dropped hints, and a malformed option is a 400 naming it.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import OpenAI from 'openai';
import { withHarness, type Harness } from '../helpers/harness.ts';

const SONNET_45 = 'us.anthropic.claude-sonnet-4-5-20250929-v1:0';
const SONNET_37 = 'us.anthropic.claude-3-7-sonnet-20250219-v1:0';
const MODELS = [
  { name: 'sonnet-converse', model: `bedrock/converse/${SONNET_45}`, region: 'us-east-1' },
  { name: 'sonnet-invoke', model: `bedrock/invoke/${SONNET_45}`, region: 'us-east-1' },
  { name: 'sonnet37-converse', model: `bedrock/converse/${SONNET_37}`, region: 'us-east-1' },
  { name: 'sonnet-auto', model: `bedrock/converse/${SONNET_45}`, region: 'us-east-1', prompt_caching: 'auto' },
  { name: 'llama', model: 'bedrock/converse/us.meta.llama3-3-70b-instruct-v1:0', region: 'us-east-1' },
];
const SYSTEM = 'You answer questions about the bolt catalogue.';
/** The options every test sends besides its own: the hints that must be dropped, never refused. */
const HINTS = { prompt_cache_retention: '24h', prompt_cache_options: { prewarm: false, comparison_response_id: 'resp_earlier' } };

function client(url: string): OpenAI {
  return new OpenAI({ baseURL: `${url}/v1`, apiKey: 'x', maxRetries: 0 });
}

function upstream(h: Harness): any {
  return h.emu.requests.at(-1)!.json;
}

function cachePoints(body: unknown): number {
  return (JSON.stringify(body).match(/"cachePoint"/g) ?? []).length;
}

function breakpoint(mark: object | undefined): object {
  return mark ? { prompt_cache_breakpoint: mark } : {};
}

/** A Chat body: a breakpoint on the system text part (`system`, if any) and on the user's text part (`user`). */
function chatBody(
  model: string,
  system: object | undefined,
  user: object,
  options: object = {},
): OpenAI.ChatCompletionCreateParamsNonStreaming {
  return {
    model,
    ...HINTS,
    prompt_cache_options: { ...HINTS.prompt_cache_options, ...options },
    messages: [
      { role: 'system', content: [{ type: 'text', text: SYSTEM, ...breakpoint(system) }] },
      { role: 'user', content: [{ type: 'text', text: 'How many bolts?', prompt_cache_breakpoint: user }] },
    ],
  } as OpenAI.ChatCompletionCreateParamsNonStreaming;
}

/** The same conversation as a Responses body: a developer item and a user item, each one input_text part. */
function responsesBody(
  model: string,
  system: object | undefined,
  user: object,
  options: object = {},
): OpenAI.Responses.ResponseCreateParamsNonStreaming {
  return {
    model,
    ...HINTS,
    prompt_cache_options: { ...HINTS.prompt_cache_options, ...options },
    input: [
      { role: 'developer', content: [{ type: 'input_text', text: SYSTEM, ...breakpoint(system) }] },
      { role: 'user', content: [{ type: 'input_text', text: 'How many bolts?', prompt_cache_breakpoint: user }] },
    ],
  } as OpenAI.Responses.ResponseCreateParamsNonStreaming;
}

const SURFACES = [
  { name: 'chat', send: (sdk: OpenAI, body: ReturnType<typeof chatBody>) => sdk.chat.completions.create(body), body: chatBody },
  { name: 'responses', send: (sdk: OpenAI, body: ReturnType<typeof responsesBody>) => sdk.responses.create(body), body: responsesBody },
] as const;

async function send(sdk: OpenAI, surface: (typeof SURFACES)[number], ...args: Parameters<typeof chatBody>): Promise<unknown> {
  return surface.name === 'chat' ? surface.send(sdk, surface.body(...args)) : surface.send(sdk, surface.body(...args));
}

test('openai SDK: prompt_cache_breakpoint on system and user parts becomes cache points, 30m and 12h as 1h on Claude 4.5', () =>
  withHarness({ models: MODELS }, async (h) => {
    const sdk = client(h.url);
    for (const surface of SURFACES) {
      // The breakpoint without a ttl takes prompt_cache_options.ttl.
      await send(sdk, surface, 'sonnet-converse', { mode: 'explicit', ttl: '12h' }, { mode: 'explicit' }, { ttl: '30m' });
      const converse = upstream(h);
      const hour = { cachePoint: { type: 'default', ttl: '1h' } };
      assert.deepEqual(converse.system, [{ text: SYSTEM }, hour], surface.name);
      assert.deepEqual(converse.messages.at(-1).content, [{ text: 'How many bolts?' }, hour], surface.name);

      await send(sdk, surface, 'sonnet-invoke', { mode: 'explicit', ttl: '12h' }, { mode: 'explicit', ttl: '30m' });
      const invoke = upstream(h);
      const control = { type: 'ephemeral', ttl: '1h' };
      assert.deepEqual(invoke.system, [{ type: 'text', text: SYSTEM, cache_control: control }], surface.name);
      assert.deepEqual(invoke.messages.at(-1).content, [{ type: 'text', text: 'How many bolts?', cache_control: control }], surface.name);
    }
    assert.ok(
      h.logs.some((l) => String(l.msg).includes('prompt_cache_breakpoint ttl "12h" → "1h", "30m" → "1h"')),
      'the log says how the lifetimes were mapped',
    );
    assert.ok(
      h.logs.some((l) => JSON.stringify(l).includes('prompt_cache_retention')),
      'the retention hint is logged as dropped',
    );
  }));

test('openai SDK: a breakpoint lifetime is a 5m point on a Claude without 1h caching, and none asked is the 5m default', () =>
  withHarness({ models: MODELS }, async (h) => {
    const sdk = client(h.url);
    for (const surface of SURFACES) {
      await send(sdk, surface, 'sonnet37-converse', { mode: 'explicit', ttl: '12h' }, { mode: 'explicit' });
      const body = upstream(h);
      const point = { cachePoint: { type: 'default' } };
      assert.deepEqual(body.system, [{ text: SYSTEM }, point], surface.name);
      assert.deepEqual(body.messages.at(-1).content, [{ text: 'How many bolts?' }, point], surface.name);
    }
    assert.ok(h.logs.some((l) => String(l.msg).includes(`"12h" → "5m" (${SONNET_37} takes no 1h cache`)));
  }));

test('openai SDK: prompt_cache_options.mode "explicit" keeps prompt_caching auto points off; "implicit" keeps them', () =>
  withHarness({ models: MODELS }, async (h) => {
    const sdk = client(h.url);
    for (const surface of SURFACES) {
      // Only the user part's breakpoint: auto would add one after the system prompt.
      await send(sdk, surface, 'sonnet-auto', undefined, { mode: 'explicit' }, { mode: 'explicit' });
      const explicit = upstream(h);
      assert.deepEqual(explicit.system, [{ text: SYSTEM }], `${surface.name}: no automatic point after the system prompt`);
      assert.equal(cachePoints(explicit), 1, `${surface.name}: only the client's own point`);

      await send(sdk, surface, 'sonnet-auto', undefined, { mode: 'explicit' }, { mode: 'implicit' });
      const implicit = upstream(h);
      assert.deepEqual(implicit.system, [{ text: SYSTEM }, { cachePoint: { type: 'default' } }], surface.name);
      assert.equal(cachePoints(implicit), 2, `${surface.name}: the automatic point and the client's`);
    }
    assert.ok(h.logs.some((l) => String(l.msg).includes('prompt_cache_options.mode "explicit"')));
  }));

test('openai SDK: a malformed prompt_cache_options or prompt_cache_breakpoint is a 400 naming it', () =>
  withHarness({ models: MODELS }, async (h) => {
    const sdk = client(h.url);
    const EXPLICIT = { mode: 'explicit' };
    const cases = [
      { user: EXPLICIT, options: { mode: 'always' }, param: 'prompt_cache_options.mode', message: /must be "implicit" or "explicit"/ },
      { user: EXPLICIT, options: { ttl: '1h' }, param: 'prompt_cache_options.ttl', message: /"30m" or "12h"/ },
      { user: { mode: 'explicit', ttl: '5m' }, options: {}, param: 'prompt_cache_breakpoint.ttl', message: /"30m" or "12h"/ },
      { user: { mode: 'implicit' }, options: {}, param: 'prompt_cache_breakpoint', message: /\{"mode": "explicit"\}/ },
    ];
    for (const surface of SURFACES) {
      for (const c of cases) {
        const before = h.emu.requests.length;
        await assert.rejects(
          send(sdk, surface, 'sonnet-converse', EXPLICIT, c.user, c.options),
          (err: InstanceType<typeof OpenAI.APIError>) => {
            assert.equal(err.status, 400, `${surface.name} ${c.param}`);
            assert.ok(String(err.param).endsWith(c.param), `${surface.name}: param ${String(err.param)} names ${c.param}`);
            assert.match(err.message, c.message);
            return true;
          },
        );
        assert.equal(h.emu.requests.length, before, 'nothing reached Bedrock');
      }
      // A model that cannot cache refuses the breakpoint as it refuses cache_control, naming what was sent.
      await assert.rejects(send(sdk, surface, 'llama', EXPLICIT, EXPLICIT), (err: InstanceType<typeof OpenAI.APIError>) => {
        assert.equal(err.status, 400);
        assert.equal(err.param, 'prompt_cache_breakpoint');
        return true;
      });
    }
  }));

test("openai SDK: breakpoints past Bedrock's four are dropped earliest first, and those before an hour-long one lifted to an hour", () =>
  withHarness({ models: MODELS }, async (h) => {
    const sdk = client(h.url);
    const EXPLICIT = { mode: 'explicit' };
    const part = (text: string, mark: object): object => ({ type: 'text', text, prompt_cache_breakpoint: mark });
    // Six breakpoints (OpenAI writes the latest and refuses none): the system one and five user parts, the last asking 12h.
    h.emu.script({ type: 'text', text: 'ok' });
    await sdk.chat.completions.create({
      model: 'sonnet-converse',
      messages: [
        { role: 'system', content: [part(SYSTEM, EXPLICIT)] },
        { role: 'user', content: [part('one', EXPLICIT), part('two', EXPLICIT), part('three', EXPLICIT)] },
        { role: 'assistant', content: 'noted' },
        { role: 'user', content: [part('four', EXPLICIT), part('five', { mode: 'explicit', ttl: '12h' })] },
      ],
    } as unknown as OpenAI.ChatCompletionCreateParamsNonStreaming);
    const body = upstream(h);
    const hour = { cachePoint: { type: 'default', ttl: '1h' } };
    // The system point and "one" are the two earliest: dropped; the three before "five" lifted to an hour.
    assert.deepEqual(body.system, [{ text: SYSTEM }]);
    assert.deepEqual(body.messages[0].content, [{ text: 'one' }, { text: 'two' }, hour, { text: 'three' }, hour]);
    assert.deepEqual(body.messages[2].content, [{ text: 'four' }, hour, { text: 'five' }, hour]);
    assert.equal(cachePoints(body), 4);
    assert.ok(h.logs.some((l) => String(l.msg).includes('prompt_cache_breakpoint: the 2 earliest dropped')));
    assert.ok(h.logs.some((l) => String(l.msg).includes('prompt_cache_breakpoint: 3 in front of an hour-long one lifted to ttl "1h"')));

    // cache_control marks are the client's Anthropic-style points: Bedrock's limit stays a 400 naming it.
    const control = (text: string): object => ({ type: 'text', text, cache_control: { type: 'ephemeral' } });
    await assert.rejects(
      sdk.chat.completions.create({
        model: 'sonnet-converse',
        messages: [{ role: 'user', content: ['a', 'b', 'c', 'd', 'e'].map(control) }],
      } as unknown as OpenAI.ChatCompletionCreateParamsNonStreaming),
      (err: InstanceType<typeof OpenAI.APIError>) => err.status === 400 && err.param === 'cache_control',
    );
    // An option OpenAI may add later is a dropped hint, not a 400.
    h.emu.script({ type: 'text', text: 'ok' });
    await send(sdk, SURFACES[1], 'sonnet-converse', undefined, EXPLICIT, { future_knob: true });
    assert.ok(h.logs.some((l) => JSON.stringify(l).includes('prompt_cache_options.future_knob')));
  }));

test('openai SDK: /v1/responses/compact takes prompt_cache_options and prompt_cache_retention', () =>
  withHarness({ models: MODELS }, async (h) => {
    const sdk = client(h.url);
    h.emu.script({ type: 'text', text: 'The user asked about bolts.' });
    const compacted = await sdk.responses.compact({
      model: 'sonnet-converse',
      input: [{ role: 'user', content: 'How many bolts?' }],
      prompt_cache_retention: '24h',
      prompt_cache_options: { mode: 'explicit', ttl: '30m' },
    });
    assert.equal(compacted.object, 'response.compaction');
  }));
