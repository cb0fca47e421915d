/**
 * Stream mappers and non-stream parsers of every family, without the emulator: native events written from
 * the AWS docs (docs/bedrock-wire.md#model-native-bodies, #converse) go in, internal events come out and are compared
 * with
 * `test/fixtures/providers/streams/<case>.json` (regenerate with UPDATE_GOLDENS=1, review the diff).
 * Each stream is also fed with its terminal event removed: then no `finish` may appear and the mapper
 * must not claim the stream terminated (the normaliser turns that into upstream_protocol_error).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import type { Route } from '../../src/config/schema.ts';
import type { Family } from '../../src/models/route.ts';
import { adapterFor } from '../../src/providers/index.ts';
import type { StreamEvent } from '../../src/pipeline/events.ts';
import { expectJsonGolden } from '../helpers/golden.ts';

const FIXTURES = join(import.meta.dirname, '../fixtures/providers/streams');
const METRICS = {
  'amazon-bedrock-invocationMetrics': { inputTokenCount: 12, outputTokenCount: 9, invocationLatency: 300, firstByteLatency: 100 },
};
const b64 = (o: unknown): string => JSON.stringify(o);

interface StreamCase {
  name: string;
  family: Family;
  route: Route;
  events: Array<Record<string, unknown>>;
  terminalIndex?: number;
}
interface ResponseCase {
  name: string;
  family: Family;
  route: Route;
  body: Record<string, unknown>;
  headers?: Record<string, string>;
}

const STREAMS: StreamCase[] = [
  {
    name: 'nova-invoke-text',
    family: 'amazon-nova',
    route: 'invoke',
    events: [
      { messageStart: { role: 'assistant' } },
      { contentBlockDelta: { delta: { text: 'Hel' }, contentBlockIndex: 0 } },
      { contentBlockDelta: { delta: { text: 'lo ☃' }, contentBlockIndex: 0 } },
      { contentBlockStop: { contentBlockIndex: 0 } },
      { messageStop: { stopReason: 'end_turn' } },
      { metadata: { usage: { inputTokens: 5, outputTokens: 3, cacheReadInputTokenCount: 2 }, metrics: {}, trace: {} }, ...METRICS },
    ],
  },
  {
    name: 'nova-invoke-tool-and-reasoning',
    family: 'amazon-nova',
    route: 'invoke',
    events: [
      { messageStart: { role: 'assistant' } },
      { contentBlockDelta: { delta: { reasoningContent: { text: 'plan' } }, contentBlockIndex: 0 } },
      { contentBlockStop: { contentBlockIndex: 0 } },
      { contentBlockStart: { start: { toolUse: { toolUseId: 'tooluse_1', name: 'get_weather' } }, contentBlockIndex: 1 } },
      { contentBlockDelta: { delta: { toolUse: { input: '{"city":' } }, contentBlockIndex: 1 } },
      { contentBlockDelta: { delta: { toolUse: { input: '"Paris"}' } }, contentBlockIndex: 1 } },
      { contentBlockStop: { contentBlockIndex: 1 } },
      { messageStop: { stopReason: 'tool_use' } },
      { metadata: { usage: { inputTokens: 5, outputTokens: 3 } }, ...METRICS },
    ],
  },
  {
    name: 'converse-reasoning-cache',
    family: 'anthropic',
    route: 'converse',
    terminalIndex: 4,
    events: [
      { messageStart: { role: 'assistant' } },
      { contentBlockDelta: { delta: { reasoningContent: { text: 'Hmm.' } }, contentBlockIndex: 0 } },
      { contentBlockDelta: { delta: { reasoningContent: { signature: 'sig' } }, contentBlockIndex: 0 } },
      { contentBlockDelta: { delta: { text: 'Yes.' }, contentBlockIndex: 1 } },
      { messageStop: { stopReason: 'guardrail_intervened' } },
      {
        metadata: {
          usage: { inputTokens: 10, outputTokens: 2, totalTokens: 42, cacheReadInputTokens: 20, cacheWriteInputTokens: 10 },
          metrics: { latencyMs: 9 },
        },
      },
    ],
  },
  {
    name: 'titan-invoke',
    family: 'amazon-titan',
    route: 'invoke',
    events: [
      { outputText: 'Bonjour', index: 0, totalOutputTextTokenCount: null, completionReason: null, inputTextTokenCount: 4 },
      {
        outputText: ' — ça va',
        index: 0,
        totalOutputTextTokenCount: 6,
        completionReason: 'FINISHED',
        inputTextTokenCount: null,
        ...METRICS,
      },
    ],
  },
  {
    name: 'titan-invoke-filtered',
    family: 'amazon-titan',
    route: 'invoke',
    events: [{ outputText: 'Sorry', index: 0, totalOutputTextTokenCount: 1, completionReason: 'CONTENT_FILTERED', inputTextTokenCount: 4 }],
  },
  {
    name: 'llama-invoke',
    family: 'meta',
    route: 'invoke',
    events: [
      { generation: 'Hi', prompt_token_count: 7, generation_token_count: 1, stop_reason: null },
      { generation: ' there 👋', prompt_token_count: null, generation_token_count: 3, stop_reason: null },
      { generation: '', prompt_token_count: null, generation_token_count: 4, stop_reason: 'length', ...METRICS },
    ],
  },
  {
    name: 'mistral-prompt-invoke',
    family: 'mistral',
    route: 'invoke',
    events: [{ outputs: [{ text: 'Bon', stop_reason: null }] }, { outputs: [{ text: 'jour', stop_reason: 'stop' }], ...METRICS }],
  },
  {
    name: 'mistral-chat-invoke-tools',
    family: 'mistral',
    route: 'invoke',
    events: [
      { choices: [{ index: 0, message: { role: 'assistant', content: 'Checking.' }, stop_reason: null }] },
      {
        choices: [
          {
            index: 0,
            message: {
              role: 'assistant',
              content: '',
              tool_calls: [
                { id: 'abc123XYZ', function: { name: 'get_weather', arguments: '{"city":"Paris"}' } },
                { id: 'def456UVW', function: { name: 'get_weather', arguments: '{"city":"Lyon"}' } },
              ],
            },
            stop_reason: null,
          },
        ],
      },
      { choices: [{ index: 0, message: { role: 'assistant', content: '' }, stop_reason: 'tool_calls' }], ...METRICS },
    ],
  },
  {
    name: 'cohere-invoke-tools',
    family: 'cohere',
    route: 'invoke',
    events: [
      { is_finished: false, event_type: 'stream-start', generation_id: 'gen-1' },
      { is_finished: false, event_type: 'text-generation', text: 'I will check.' },
      { is_finished: false, event_type: 'tool-calls-generation', tool_calls: [{ name: 'get_weather', parameters: { city: 'Paris' } }] },
      {
        is_finished: true,
        event_type: 'stream-end',
        finish_reason: 'COMPLETE',
        response: { meta: { billed_units: { input_tokens: 8, output_tokens: 5 } } },
        ...METRICS,
      },
    ],
  },
  {
    name: 'cohere-invoke-tool-chunks',
    family: 'cohere',
    route: 'invoke',
    events: [
      { is_finished: false, event_type: 'stream-start', generation_id: 'gen-2' },
      { is_finished: false, event_type: 'tool-calls-chunk', text: 'I will use get_weather' },
      { is_finished: false, event_type: 'tool-calls-chunk', tool_call_delta: { index: 0, name: 'get_weather' } },
      { is_finished: false, event_type: 'tool-calls-chunk', tool_call_delta: { index: 0, parameters: '{"city":' } },
      { is_finished: false, event_type: 'tool-calls-chunk', tool_call_delta: { index: 0, parameters: '"Paris"}' } },
      { is_finished: false, event_type: 'tool-calls-generation', tool_calls: [{ name: 'get_weather', parameters: { city: 'Paris' } }] },
      {
        is_finished: true,
        event_type: 'stream-end',
        finish_reason: 'COMPLETE',
        response: { meta: { billed_units: { input_tokens: 8, output_tokens: 5 } } },
      },
    ],
  },
  {
    name: 'cohere-invoke-error',
    family: 'cohere',
    route: 'invoke',
    events: [
      { is_finished: false, event_type: 'text-generation', text: 'Par' },
      { is_finished: true, event_type: 'stream-end', finish_reason: 'ERROR', response: {} },
    ],
  },
  {
    name: 'ai21-invoke',
    family: 'ai21',
    route: 'invoke',
    events: [
      { id: 'chat-1', choices: [{ index: 0, delta: { role: 'assistant' }, finish_reason: null }] },
      { id: 'chat-1', choices: [{ index: 0, delta: { content: 'Hi' }, finish_reason: null }] },
      {
        id: 'chat-1',
        choices: [{ index: 0, delta: {}, finish_reason: 'stop' }],
        usage: { prompt_tokens: 9, completion_tokens: 2, total_tokens: 11 },
      },
    ],
  },
  {
    name: 'deepseek-invoke-think',
    family: 'deepseek',
    route: 'invoke',
    events: [
      { choices: [{ text: 'Okay, the user', stop_reason: null }] },
      { choices: [{ text: ' asks.\n</th', stop_reason: null }] },
      { choices: [{ text: 'ink>\n\nParis is ', stop_reason: null }] },
      { choices: [{ text: 'sunny.', stop_reason: 'stop' }], ...METRICS },
    ],
  },
  {
    name: 'openai-invoke-reasoning-tools',
    family: 'openai',
    route: 'invoke',
    events: [
      { object: 'chat.completion.chunk', choices: [{ index: 0, delta: { role: 'assistant', content: '' }, finish_reason: null }] },
      { object: 'chat.completion.chunk', choices: [{ index: 0, delta: { content: '<reasoning>Need weather' }, finish_reason: null }] },
      { object: 'chat.completion.chunk', choices: [{ index: 0, delta: { content: '</reasoning>' }, finish_reason: null }] },
      {
        object: 'chat.completion.chunk',
        choices: [
          {
            index: 0,
            delta: { tool_calls: [{ index: 0, id: 'call_a', type: 'function', function: { name: 'get_weather', arguments: '' } }] },
            finish_reason: null,
          },
        ],
      },
      {
        object: 'chat.completion.chunk',
        choices: [{ index: 0, delta: { tool_calls: [{ index: 0, function: { arguments: '{"city":"Pa' } }] }, finish_reason: null }],
      },
      {
        object: 'chat.completion.chunk',
        choices: [{ index: 0, delta: { tool_calls: [{ index: 0, function: { arguments: 'ris"}' } }] }, finish_reason: null }],
      },
      {
        object: 'chat.completion.chunk',
        choices: [{ index: 0, delta: {}, finish_reason: 'tool_calls' }],
        usage: { prompt_tokens: 20, completion_tokens: 10, total_tokens: 30, prompt_tokens_details: { cached_tokens: 4 } },
      },
    ],
  },
  {
    name: 'qwen-invoke-reasoning-field',
    family: 'qwen',
    route: 'invoke',
    events: [
      { choices: [{ index: 0, delta: { reasoning_content: 'Think' }, finish_reason: null }] },
      { choices: [{ index: 0, delta: { content: 'Answer' }, finish_reason: null }] },
      { choices: [{ index: 0, delta: {}, finish_reason: 'stop' }], ...METRICS },
    ],
  },
  {
    name: 'anthropic-invoke-cache',
    family: 'anthropic',
    route: 'invoke',
    events: [
      {
        type: 'message_start',
        message: {
          id: 'msg_bdrk_1',
          type: 'message',
          role: 'assistant',
          content: [],
          usage: { input_tokens: 3, output_tokens: 1, cache_read_input_tokens: 100, cache_creation_input_tokens: 50 },
        },
      },
      { type: 'content_block_start', index: 0, content_block: { type: 'thinking', thinking: '' } },
      { type: 'content_block_delta', index: 0, delta: { type: 'thinking_delta', thinking: 'Hm' } },
      { type: 'content_block_delta', index: 0, delta: { type: 'signature_delta', signature: 'sig' } },
      { type: 'content_block_stop', index: 0 },
      { type: 'content_block_start', index: 1, content_block: { type: 'text', text: '' } },
      { type: 'content_block_delta', index: 1, delta: { type: 'text_delta', text: 'Yes' } },
      { type: 'content_block_stop', index: 1 },
      { type: 'message_delta', delta: { stop_reason: 'end_turn', stop_sequence: null }, usage: { output_tokens: 7 } },
      { type: 'message_stop' },
    ],
  },
];

const RESPONSES: ResponseCase[] = [
  {
    name: 'nova-invoke',
    family: 'amazon-nova',
    route: 'invoke',
    body: {
      output: {
        message: {
          role: 'assistant',
          content: [
            { reasoningContent: { reasoningText: { text: 'r' } } },
            { text: 'Hi' },
            { toolUse: { toolUseId: 't1', name: 'f', input: { a: 1 } } },
          ],
        },
      },
      stopReason: 'tool_use',
      usage: { inputTokens: 3, outputTokens: 4, totalTokens: 7 },
    },
  },
  {
    name: 'titan-invoke',
    family: 'amazon-titan',
    route: 'invoke',
    body: { inputTextTokenCount: 4, results: [{ tokenCount: 2, outputText: 'Hi', completionReason: 'LENGTH' }] },
  },
  {
    name: 'llama-invoke',
    family: 'meta',
    route: 'invoke',
    body: { generation: 'Hi', prompt_token_count: 5, generation_token_count: 1, stop_reason: 'stop' },
  },
  {
    name: 'mistral-prompt-invoke-headers',
    family: 'mistral',
    route: 'invoke',
    body: { outputs: [{ text: 'Hi', stop_reason: 'stop' }] },
    headers: { 'x-amzn-bedrock-input-token-count': '6', 'x-amzn-bedrock-output-token-count': '2' },
  },
  {
    name: 'mistral-chat-invoke',
    family: 'mistral',
    route: 'invoke',
    body: {
      choices: [
        {
          index: 0,
          message: { role: 'assistant', content: '', tool_calls: [{ id: 'abc', function: { name: 'f', arguments: '{"a":1}' } }] },
          stop_reason: 'tool_calls',
        },
      ],
    },
  },
  {
    name: 'cohere-invoke',
    family: 'cohere',
    route: 'invoke',
    body: {
      text: '',
      generation_id: 'g',
      tool_calls: [{ name: 'f', parameters: { a: 1 } }],
      finish_reason: 'COMPLETE',
      meta: { billed_units: { input_tokens: 3, output_tokens: 2 } },
    },
  },
  {
    name: 'ai21-invoke',
    family: 'ai21',
    route: 'invoke',
    body: {
      id: 'x',
      choices: [{ index: 0, message: { role: 'assistant', content: 'Hi' }, finish_reason: 'length' }],
      usage: { prompt_tokens: 3, completion_tokens: 1, total_tokens: 4 },
    },
  },
  {
    name: 'deepseek-invoke',
    family: 'deepseek',
    route: 'invoke',
    body: { choices: [{ text: 'think\n</think>\n\nAnswer', stop_reason: 'stop' }] },
    headers: { 'x-amzn-bedrock-input-token-count': '6', 'x-amzn-bedrock-output-token-count': '2' },
  },
  {
    name: 'openai-invoke',
    family: 'openai',
    route: 'invoke',
    body: {
      choices: [{ index: 0, message: { role: 'assistant', content: '<reasoning>r</reasoning>Answer' }, finish_reason: 'stop' }],
      usage: { prompt_tokens: 3, completion_tokens: 1, total_tokens: 4 },
    },
  },
  {
    name: 'converse',
    family: 'openai',
    route: 'converse',
    body: {
      output: { message: { role: 'assistant', content: [{ text: 'Hi' }] } },
      stopReason: 'max_tokens',
      usage: { inputTokens: 3, outputTokens: 4, totalTokens: 7, cacheReadInputTokens: 1 },
      metrics: { latencyMs: 1 },
    },
  },
];

function golden(name: string, actual: unknown): void {
  expectJsonGolden(join(FIXTURES, `${name}.json`), actual, (_k, v) =>
    v instanceof Error ? { error: v.name, type: (v as { type?: string }).type, message: v.message } : v,
  );
}

for (const c of STREAMS) {
  test(`stream mapper: ${c.name} maps the family's native events (golden), terminal exactly at its last event`, () => {
    const adapter = adapterFor(c.route, c.family)!;
    const mapper = adapter.createStreamMapper();
    const out: StreamEvent[] = [];
    const terminal = c.terminalIndex ?? c.events.length - 1;
    c.events.forEach((event, i) => {
      out.push(...mapper.push(JSON.parse(b64(event)) as Record<string, unknown>));
      assert.equal(mapper.terminated, i >= terminal, `terminated after event ${i}`);
    });
    golden(`stream-${c.name}`, out);
    // the same stream cut before its terminal event: no finish, not terminated
    const cut = adapter.createStreamMapper();
    const partial = c.events.slice(0, terminal).flatMap((event) => cut.push(event));
    assert.equal(cut.terminated, false);
    assert.ok(!partial.some((e) => e.kind === 'finish'), 'no finish before the terminal event');
  });
}

for (const c of RESPONSES) {
  test(`response parser: ${c.name} maps a whole answer to the same events a stream gives (golden)`, () => {
    const adapter = adapterFor(c.route, c.family)!;
    golden(`response-${c.name}`, adapter.parseResponse(c.body, c.headers));
  });
}

test('stream mapper: OpenAI-shaped families on invoke map finish_reason "content_filter" to content_filter, stream and whole', () => {
  for (const family of ['openai', 'qwen'] as const) {
    const adapter = adapterFor('invoke', family)!;
    const mapper = adapter.createStreamMapper();
    const events = [
      ...mapper.push({ choices: [{ index: 0, delta: { role: 'assistant', content: 'Hel' }, finish_reason: null }] }),
      ...mapper.push({ choices: [{ index: 0, delta: {}, finish_reason: 'content_filter' }], ...METRICS }),
    ];
    const finish = events.find((e) => e.kind === 'finish');
    assert.equal(finish?.kind === 'finish' && finish.reason, 'content_filter', `${family}, stream`);
    const whole = adapter.parseResponse(
      {
        choices: [{ index: 0, message: { role: 'assistant', content: 'Hel' }, finish_reason: 'content_filter' }],
        usage: { prompt_tokens: 1, completion_tokens: 1, total_tokens: 2 },
      },
      {},
    );
    const wholeFinish = whole.find((e) => e.kind === 'finish');
    assert.equal(wholeFinish?.kind === 'finish' && wholeFinish.reason, 'content_filter', `${family}, whole answer`);
  }
});
