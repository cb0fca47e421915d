/**
 * Shapes real Bedrock answers have that the documentation does not say plainly (the recordings in
 * test/fixtures/real-traffic/ show each): a guardrail-intervened invoke stream that ends without the
 * model's final event, float token counts, Titan's `FINISH`, Nova 2's built-in server tools. Each through
 * the normaliser and the family's mapper, as the sidecar's stream path runs them.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { Message } from '@smithy/core/event-streams';
import type { Route } from '../../src/config/schema.ts';
import type { Family } from '../../src/models/route.ts';
import { BedrockEventNormalizer } from '../../src/pipeline/normalizer.ts';
import type { StreamEvent } from '../../src/pipeline/events.ts';
import { adapterFor } from '../../src/providers/index.ts';
import { isKnownStopReason, mapFinishReason } from '../../src/providers/finish.ts';
import { applyCountHeaders, usageFromHeaders, withCountHeaders } from '../../src/providers/usage.ts';

const INTERVENED = { 'amazon-bedrock-guardrailAction': 'INTERVENED' };

/** An invoke `chunk` message whose base64 bytes are exactly `json` (so `28.0` stays a float on the wire). */
function chunk(json: string): Message {
  return {
    headers: { ':message-type': { type: 'string', value: 'event' }, ':event-type': { type: 'string', value: 'chunk' } },
    body: Buffer.from(JSON.stringify({ bytes: Buffer.from(json).toString('base64') })),
  };
}

function converseEvent(name: string, payload: unknown): Message {
  return {
    headers: { ':message-type': { type: 'string', value: 'event' }, ':event-type': { type: 'string', value: name } },
    body: Buffer.from(JSON.stringify(payload)),
  };
}

/** The events a whole stream of messages becomes, end of input included. */
function run(family: Family, route: Route, messages: Message[]): StreamEvent[] {
  const normalizer = new BedrockEventNormalizer(route, adapterFor(route, family)!.createStreamMapper());
  return [...normalizer.push(messages), ...normalizer.end()];
}

const finishOf = (events: StreamEvent[]) => events.find((e): e is Extract<StreamEvent, { kind: 'finish' }> => e.kind === 'finish');
const usageOf = (events: StreamEvent[]) => events.find((e): e is Extract<StreamEvent, { kind: 'usage' }> => e.kind === 'usage')?.usage;
const textOf = (events: StreamEvent[]) => events.map((e) => (e.kind === 'text' ? e.text : '')).join('');

test('Titan invoke stream: a guardrail-intervened last chunk with float counts and no completionReason ends content_filter, not 502', () => {
  const events = run('amazon-titan', 'invoke', [
    chunk(
      '{"outputText":"Sorry, I cannot answer that.","index":0.0,"inputTextTokenCount":14.0,"totalOutputTextTokenCount":7.0,"amazon-bedrock-guardrailAction":"INTERVENED"}',
    ),
  ]);
  assert.equal(textOf(events), 'Sorry, I cannot answer that.');
  assert.equal(events.filter((e) => e.kind === 'error').length, 0, JSON.stringify(events));
  assert.equal(finishOf(events)?.reason, 'content_filter');
  assert.equal(finishOf(events)?.guardrailIntervened, true);
  assert.deepEqual(usageOf(events), { inputTokens: 14, outputTokens: 7, cacheReadTokens: 0, cacheWriteTokens: 0 });
  assert.equal(events.at(-1)?.kind, 'usage');
});

test('Titan invoke stream: masked by a guardrail (INTERVENED on every chunk, FINISH at the end) is content_filter', () => {
  const events = run('amazon-titan', 'invoke', [
    chunk('{"outputText":"The number is ","index":0.0,"inputTextTokenCount":28.0,"amazon-bedrock-guardrailAction":"INTERVENED"}'),
    chunk(
      '{"outputText":"{Account Number}.","index":0.0,"totalOutputTextTokenCount":188.0,"completionReason":"FINISH","amazon-bedrock-guardrailAction":"INTERVENED","amazon-bedrock-invocationMetrics":{"inputTokenCount":28,"outputTokenCount":188,"invocationLatency":9,"firstByteLatency":9}}',
    ),
  ]);
  assert.equal(textOf(events), 'The number is {Account Number}.');
  assert.equal(finishOf(events)?.reason, 'content_filter');
  assert.equal(finishOf(events)?.upstreamReason, 'FINISH');
  assert.deepEqual(usageOf(events), { inputTokens: 28, outputTokens: 188, cacheReadTokens: 0, cacheWriteTokens: 0 });
});

/** One chunk a guardrail intervened in, per invoke family, in the family's own shape; the stream then ends. */
const CUT_BY_GUARDRAIL: Array<{ family: Family; events: Array<Record<string, unknown>> }> = [
  {
    family: 'anthropic',
    events: [
      { type: 'message_start', message: { usage: { input_tokens: 9, output_tokens: 1 } } },
      { type: 'content_block_delta', index: 0, delta: { type: 'text_delta', text: 'Sorry.' }, ...INTERVENED },
    ],
  },
  { family: 'amazon-nova', events: [{ contentBlockDelta: { delta: { text: 'Sorry.' }, contentBlockIndex: 0 }, ...INTERVENED }] },
  {
    family: 'meta',
    events: [{ generation: 'Sorry.', prompt_token_count: 9, generation_token_count: 2, stop_reason: null, ...INTERVENED }],
  },
  { family: 'mistral', events: [{ outputs: [{ text: 'Sorry.', stop_reason: null }], ...INTERVENED }] },
  { family: 'cohere', events: [{ is_finished: false, event_type: 'text-generation', text: 'Sorry.', ...INTERVENED }] },
  { family: 'ai21', events: [{ choices: [{ index: 0, delta: { content: 'Sorry.' }, finish_reason: null }], ...INTERVENED }] },
  { family: 'deepseek', events: [{ choices: [{ text: 'Sorry.</think>', stop_reason: null }], ...INTERVENED }] },
  { family: 'openai', events: [{ choices: [{ index: 0, delta: { content: 'Sorry.' }, finish_reason: null }], ...INTERVENED }] },
  { family: 'qwen', events: [{ choices: [{ index: 0, delta: { content: 'Sorry.' }, finish_reason: null }], ...INTERVENED }] },
];

test('every invoke family: a stream a guardrail intervened in may end without the final event (content_filter); without the marker it is still an error', () => {
  for (const { family, events } of CUT_BY_GUARDRAIL) {
    const intervened = run(
      family,
      'invoke',
      events.map((e) => chunk(JSON.stringify(e))),
    );
    assert.equal(intervened.filter((e) => e.kind === 'error').length, 0, `${family}: ${JSON.stringify(intervened)}`);
    assert.equal(finishOf(intervened)?.reason, 'content_filter', family);
    assert.equal(intervened.filter((e) => e.kind === 'finish').length, 1, family);

    const plain = run(
      family,
      'invoke',
      events.map(({ 'amazon-bedrock-guardrailAction': _marker, ...rest }) => chunk(JSON.stringify(rest))),
    );
    assert.equal(finishOf(plain), undefined, family);
    assert.equal(plain.at(-1)?.kind, 'error', family);
    assert.equal((plain.at(-1) as Extract<StreamEvent, { kind: 'error' }>).error.type, 'upstream_protocol_error', family);
  }
});

test('every invoke family: INTERVENED on an otherwise normal final event makes the finish content_filter', () => {
  const anthropic = run('anthropic', 'invoke', [
    chunk(JSON.stringify({ type: 'message_delta', delta: { stop_reason: 'end_turn' }, usage: { output_tokens: 3 } })),
    chunk(JSON.stringify({ type: 'message_stop', ...INTERVENED })),
  ]);
  assert.equal(finishOf(anthropic)?.reason, 'content_filter');
  const nova = run('amazon-nova', 'invoke', [
    chunk(JSON.stringify({ messageStop: { stopReason: 'end_turn' } })),
    chunk(JSON.stringify({ metadata: { usage: { inputTokens: 30, outputTokens: 55 } }, ...INTERVENED })),
  ]);
  assert.equal(finishOf(nova)?.reason, 'content_filter');
  assert.deepEqual(usageOf(nova), { inputTokens: 30, outputTokens: 55, cacheReadTokens: 0, cacheWriteTokens: 0 });
});

test('stop reasons: every reason real answers and the family docs use is named, with its mapping', () => {
  const expected: Record<string, string> = {
    FINISH: 'stop',
    FINISHED: 'stop',
    LENGTH: 'length',
    STOP_CRITERIA_MET: 'stop',
    RAG_QUERY_WHEN_RAG_DISABLED: 'stop',
    CONTENT_FILTERED: 'content_filter',
    end_turn: 'stop',
    stop_sequence: 'stop',
    max_tokens: 'length',
    tool_use: 'tool_calls',
    pause_turn: 'stop',
    refusal: 'content_filter',
    guardrail_intervened: 'content_filter',
    content_filtered: 'content_filter',
    model_context_window_exceeded: 'length',
    malformed_model_output: 'stop',
    malformed_tool_use: 'stop',
    stop: 'stop',
    length: 'length',
    tool_calls: 'tool_calls',
    content_filter: 'content_filter',
    COMPLETE: 'stop',
    MAX_TOKENS: 'length',
    ERROR_TOXIC: 'content_filter',
    ERROR_LIMIT: 'length',
    USER_CANCEL: 'stop',
  };
  for (const [reason, finish] of Object.entries(expected)) {
    assert.ok(isKnownStopReason(reason), `${reason} is named in the table`);
    assert.equal(mapFinishReason(reason), finish, reason);
  }
  assert.equal(isKnownStopReason('some_new_reason'), false);
});

test('Nova 2 built-in server tools (server_tool_use and its toolResult) never surface as tool_calls, stream or whole', () => {
  const stream = run('amazon-nova', 'converse', [
    converseEvent('messageStart', { role: 'assistant' }),
    converseEvent('contentBlockStart', {
      contentBlockIndex: 0,
      start: { toolUse: { name: 'nova_code_interpreter', toolUseId: 'tooluse_srv', type: 'server_tool_use' } },
    }),
    converseEvent('contentBlockDelta', { contentBlockIndex: 0, delta: { toolUse: { input: '{"snippet":"1234 * 5678"}' } } }),
    converseEvent('contentBlockStop', { contentBlockIndex: 0 }),
    converseEvent('contentBlockStart', {
      contentBlockIndex: 1,
      start: { toolResult: { status: 'success', toolUseId: 'tooluse_srv', type: 'nova_code_interpreter_result' } },
    }),
    converseEvent('contentBlockDelta', { contentBlockIndex: 1, delta: { toolResult: [{ json: { stdOut: '7006652', exitCode: 0 } }] } }),
    converseEvent('contentBlockStop', { contentBlockIndex: 1 }),
    converseEvent('contentBlockStart', {
      contentBlockIndex: 2,
      start: { toolUse: { name: 'final_result', toolUseId: 'tooluse_client', type: 'tool_use' } },
    }),
    converseEvent('contentBlockDelta', { contentBlockIndex: 2, delta: { toolUse: { input: '{"result":7006652.0}' } } }),
    converseEvent('contentBlockStop', { contentBlockIndex: 2 }),
    converseEvent('messageStop', { stopReason: 'tool_use' }),
    converseEvent('metadata', {
      usage: { inputTokens: 1002, outputTokens: 59, serverToolUsage: {}, totalTokens: 1061 },
      metrics: { latencyMs: 1 },
    }),
  ]);
  assert.deepEqual(
    stream.filter((e) => e.kind === 'tool_start' || e.kind === 'tool_delta'),
    [
      { kind: 'tool_start', index: 0, id: 'tooluse_client', name: 'final_result' },
      { kind: 'tool_delta', index: 0, arguments: '{"result":7006652.0}' },
    ],
  );
  const whole = adapterFor('converse', 'amazon-nova')!.parseResponse({
    output: {
      message: {
        role: 'assistant',
        content: [
          {
            toolUse: {
              input: { snippet: '1234 * 5678' },
              name: 'nova_code_interpreter',
              toolUseId: 'tooluse_srv',
              type: 'server_tool_use',
            },
          },
          {
            toolResult: {
              content: [{ json: { stdOut: '7006652' } }],
              status: 'success',
              toolUseId: 'tooluse_srv',
              type: 'nova_code_interpreter_result',
            },
          },
          { toolUse: { input: { result: 7006652 }, name: 'final_result', toolUseId: 'tooluse_client', type: 'tool_use' } },
        ],
      },
    },
    stopReason: 'tool_use',
    usage: { inputTokens: 1002, outputTokens: 59, serverToolUsage: {}, totalTokens: 1061 },
  });
  assert.deepEqual(
    whole.filter((e) => e.kind === 'tool_start').map((e) => e.kind === 'tool_start' && e.name),
    ['final_result'],
  );
});

test("token-count headers: they replace the body's counts and fill what it lacks; a stream batch gets no invented usage", () => {
  const counts = usageFromHeaders({ 'x-amzn-bedrock-input-token-count': '30', 'x-amzn-bedrock-output-token-count': '51' });
  const whole = adapterFor('invoke', 'amazon-nova')!.parseResponse({
    output: { message: { role: 'assistant', content: [{ text: 'Hi' }] } },
    stopReason: 'end_turn',
    usage: { inputTokens: 30 },
  });
  assert.equal(usageOf(whole)?.outputTokens, 0, 'the body alone lacks the output count');
  assert.deepEqual(usageOf(applyCountHeaders(whole, counts)), {
    inputTokens: 30,
    outputTokens: 51,
    cacheReadTokens: 0,
    cacheWriteTokens: 0,
  });
  const noUsage = applyCountHeaders(
    [
      { kind: 'text', text: 'x' },
      { kind: 'finish', reason: 'stop' },
    ],
    counts,
  );
  assert.deepEqual(
    noUsage.map((e) => e.kind),
    ['text', 'finish', 'usage'],
  );

  const mapper = withCountHeaders(adapterFor('converse', 'anthropic')!.createStreamMapper(), counts);
  const atStop = mapper.push({ messageStop: { stopReason: 'end_turn' } });
  assert.deepEqual(
    atStop.map((e) => e.kind),
    ['finish'],
    'converse usage comes with metadata, later',
  );
  assert.ok(mapper.terminated);
  const atMetadata = mapper.push({ metadata: { usage: { inputTokens: 1, outputTokens: 2 } } });
  assert.deepEqual(usageOf(atMetadata), { inputTokens: 30, outputTokens: 51, cacheReadTokens: 0, cacheWriteTokens: 0 });
});
