// An input guardrail that masks text in a request whose client sent the family's own body (a native InvokeModel
// body of Claude, Nova, OpenAI's models, Jamba, Cohere, Llama; the Messages surface's own Claude body) changes
// that text and nothing else (docs/contract.md#guardrails): the mask is written where the text was read, and
// every member only the family's body has (Cohere's documents and k, penalties, seed, logit_bias, Jamba's n,
// Claude's document citations, …) goes as the client wrote it. A strict stand-in for Bedrock records each body:
// an unguarded alias's body is the reference (the app's own body as written), and the guarded alias's must be
// exactly it with the masked text replaced.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { startHarness, type Harness } from '../helpers/harness.ts';
import { startHostileUpstream, type HostileUpstream } from '../helpers/hostile-upstream.ts';

type Json = Record<string, unknown>;

const SSN = '123-45-6789';
const MASK = '[REDACTED]';

const TARGETS: Record<string, string> = {
  claude: 'bedrock/invoke/us.anthropic.claude-sonnet-4-5-20250929-v1:0',
  nova: 'bedrock/invoke/us.amazon.nova-pro-v1:0',
  'gpt-oss': 'bedrock/invoke/openai.gpt-oss-20b-1:0',
  jamba: 'bedrock/invoke/ai21.jamba-1-5-mini-v1:0',
  cohere: 'bedrock/invoke/cohere.command-r-plus-v1:0',
  llama: 'bedrock/invoke/us.meta.llama3-3-70b-instruct-v1:0',
};

/** Each target twice: `<name>` with the masking guardrail, `<name>-plain` without any. */
const MODELS = Object.entries(TARGETS).flatMap(([name, model]) => [
  { name, model, region: 'us-east-1', guardrails: ['mask-ids'] },
  { name: `${name}-plain`, model, region: 'us-east-1' },
]);

async function withRig(run: (h: Harness, upstream: HostileUpstream) => Promise<void>): Promise<void> {
  // Records each body and refuses it: a 400 is relayed as it is, never retried, so one call is one body.
  const upstream = await startHostileUpstream((_req, res) => {
    res.writeHead(400, {
      'content-type': 'application/json',
      'x-amzn-errortype': 'ValidationException:http://internal.amazon.com/coral/com.amazon.bedrock/',
    });
    res.end(JSON.stringify({ message: 'recorded' }));
  });
  const h = await startHarness(
    {
      guardrails: [{ name: 'mask-ids', type: 'regex', patterns: ['\\d{3}-\\d{2}-\\d{4}'], action: 'mask' }],
      models: MODELS,
    },
    { env: { AWS_ENDPOINT_URL_BEDROCK_RUNTIME: upstream.url } },
  );
  try {
    await run(h, upstream);
  } finally {
    await h.close();
    await upstream.close();
  }
}

/** The body Bedrock was sent for one call of `path` with `body`. */
async function sent(h: Harness, upstream: HostileUpstream, path: string, body: Json): Promise<Json> {
  const before = upstream.requests.length;
  const res = await fetch(`${h.url}${path}`, { method: 'POST', body: JSON.stringify(body) });
  await res.arrayBuffer();
  assert.equal(upstream.requests.length, before + 1, `${path}: one upstream call (${res.status})`);
  return JSON.parse(upstream.requests.at(-1)!.body.toString('utf8')) as Json;
}

const masked = (body: Json): Json => JSON.parse(JSON.stringify(body).replaceAll(SSN, MASK)) as Json;

/**
 * The app's body to the plain alias goes as written (`asWritten`, when the route sends it so); to the guarded
 * alias, exactly that with the number masked; a guarded call that masks nothing goes as the plain one.
 */
async function check(h: Harness, upstream: HostileUpstream, name: string, body: Json, asWritten: boolean): Promise<void> {
  const path = (alias: string): string => (name === 'messages' ? '/v1/messages' : `/model/${alias}/invoke`);
  const withAlias = (alias: string, b: Json): Json => (name === 'messages' ? { ...b, model: alias } : b);
  const alias = name === 'messages' ? 'claude' : name;
  const reference = await sent(h, upstream, path(`${alias}-plain`), withAlias(`${alias}-plain`, body));
  if (asWritten) assert.deepEqual(reference, body, `${name}: as the app wrote it`);
  assert.ok(JSON.stringify(reference).includes(SSN), `${name}: the reference carries the number`);
  const guarded = await sent(h, upstream, path(alias), withAlias(alias, body));
  assert.deepEqual(guarded, masked(reference), `${name}: masked, and nothing else changed`);
  const clean = masked(body);
  assert.deepEqual(
    await sent(h, upstream, path(alias), withAlias(alias, clean)),
    await sent(h, upstream, path(`${alias}-plain`), withAlias(`${alias}-plain`, clean)),
    `${name}: nothing to mask, nothing changed`,
  );
}

test('a masked native Claude body keeps its own members: the system blocks, the tool result, top_k, stop sequences, tool choice', () =>
  withRig(async (h, upstream) => {
    await check(
      h,
      upstream,
      'claude',
      {
        anthropic_version: 'bedrock-2023-05-31',
        max_tokens: 200,
        system: [{ type: 'text', text: `Agent ${SSN} on duty.`, cache_control: { type: 'ephemeral' } }],
        messages: [
          { role: 'user', content: 'Look me up.' },
          { role: 'assistant', content: [{ type: 'tool_use', id: 'toolu_1', name: 'lookup', input: { q: 'me' } }] },
          {
            role: 'user',
            content: [
              { type: 'tool_result', tool_use_id: 'toolu_1', content: `found ${SSN}` },
              { type: 'text', text: `Is ${SSN} mine?` },
            ],
          },
        ],
        tools: [{ name: 'lookup', description: 'find', input_schema: { type: 'object', properties: { q: { type: 'string' } } } }],
        tool_choice: { type: 'auto', disable_parallel_tool_use: true },
        top_k: 40,
        stop_sequences: ['END'],
      },
      true,
    );
  }));

test('a masked Messages body to Claude on invoke keeps what only Claude reads: document citations and context, the tool choice', () =>
  withRig(async (h, upstream) => {
    await check(
      h,
      upstream,
      'messages',
      {
        max_tokens: 200,
        system: `Agent ${SSN} on duty.`,
        messages: [
          {
            role: 'user',
            content: [
              {
                type: 'document',
                source: { type: 'text', media_type: 'text/plain', data: 'The sky is blue.' },
                title: 'notes',
                context: 'from the field',
                citations: { enabled: true },
              },
              { type: 'text', text: `My number is ${SSN}. What colour is the sky?` },
            ],
          },
        ],
        tools: [{ name: 'lookup', input_schema: { type: 'object', properties: {} } }],
        tool_choice: { type: 'auto', disable_parallel_tool_use: true },
        metadata: { user_id: 'u-1' },
      },
      false,
    );
  }));

test('a masked Nova body keeps its own members: topK, the tool config, the system and result blocks', () =>
  withRig(async (h, upstream) => {
    await check(
      h,
      upstream,
      'nova',
      {
        schemaVersion: 'messages-v1',
        system: [{ text: `Agent ${SSN} on duty.` }],
        messages: [
          { role: 'user', content: [{ text: 'Look me up.' }] },
          { role: 'assistant', content: [{ toolUse: { toolUseId: 't1', name: 'lookup', input: {} } }] },
          {
            role: 'user',
            content: [{ toolResult: { toolUseId: 't1', content: [{ json: { id: SSN, kind: 'ssn' } }] } }, { text: `Is ${SSN} mine?` }],
          },
        ],
        toolConfig: { tools: [{ toolSpec: { name: 'lookup', inputSchema: { json: { type: 'object', properties: {} } } } }] },
        inferenceConfig: { maxTokens: 200, topK: 20, temperature: 0.3 },
      },
      true,
    );
  }));

test("a masked OpenAI body keeps OpenAI's members: penalties, seed, logit_bias, reasoning effort; string and part content", () =>
  withRig(async (h, upstream) => {
    await check(
      h,
      upstream,
      'gpt-oss',
      {
        messages: [
          { role: 'developer', content: `Agent ${SSN} on duty.` },
          { role: 'user', content: [{ type: 'text', text: `Is ${SSN} mine?` }] },
        ],
        max_completion_tokens: 200,
        frequency_penalty: 0.4,
        presence_penalty: 0.2,
        seed: 7,
        logit_bias: { '1234': -10 },
        reasoning_effort: 'low',
      },
      true,
    );
  }));

test("a masked Jamba body keeps Jamba's members: documents, n, penalties", () =>
  withRig(async (h, upstream) => {
    await check(
      h,
      upstream,
      'jamba',
      {
        messages: [
          { role: 'system', content: 'Be brief.' },
          { role: 'user', content: `Is ${SSN} mine?` },
        ],
        documents: [{ content: 'The sky is blue.', metadata: [{ key: 'source', value: 'notes' }] }],
        n: 1,
        max_tokens: 100,
        frequency_penalty: 0.3,
        presence_penalty: 0.1,
      },
      true,
    );
  }));

test("a masked Cohere body keeps Cohere's members: documents, k, p, seed, penalties; the history, the preamble and the tool outputs masked in place", () =>
  withRig(async (h, upstream) => {
    await check(
      h,
      upstream,
      'cohere',
      {
        message: `Is ${SSN} mine?`,
        preamble: `Agent ${SSN} on duty.`,
        chat_history: [
          { role: 'USER', message: `I am ${SSN}.` },
          { role: 'CHATBOT', message: 'Noted.', tool_calls: [{ name: 'lookup', parameters: { q: 'me' } }] },
          { role: 'TOOL', tool_results: [{ call: { name: 'lookup', parameters: { q: 'me' } }, outputs: [{ id: SSN }] }] },
        ],
        tools: [{ name: 'lookup', description: 'find', parameter_definitions: { q: { type: 'str', required: true } } }],
        documents: [{ title: 'notes', snippet: 'The sky is blue.' }],
        max_tokens: 100,
        k: 5,
        p: 0.9,
        seed: 3,
        frequency_penalty: 0.2,
        search_queries_only: false,
      },
      true,
    );
  }));

test("a masked Llama prompt keeps Llama's members: max_gen_len, temperature", () =>
  withRig(async (h, upstream) => {
    await check(
      h,
      upstream,
      'llama',
      {
        prompt: `<|begin_of_text|><|start_header_id|>user<|end_header_id|>\n\nIs ${SSN} mine?<|eot_id|><|start_header_id|>assistant<|end_header_id|>\n\n`,
        max_gen_len: 100,
        temperature: 0.2,
        top_p: 0.8,
      },
      true,
    );
  }));
