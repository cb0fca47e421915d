/**
 * The Responses surface through the official `openai` SDK against the sidecar and the emulator
 * (docs/contract.md#openai-responses): create, stream, for-await events, previous_response_id, tools, the
 * thinking round trip, GET / DELETE, and a guardrail block raising with its message.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import OpenAI from 'openai';
import { gate } from '../helpers/emulator.ts';
import { startHarness, withHarness, type Harness } from '../helpers/harness.ts';

const CLAUDE = { name: 'claude', model: 'bedrock/invoke/us.anthropic.claude-sonnet-4-20250514-v1:0', region: 'us-east-1' };
const NOVA = { name: 'nova', model: 'bedrock/converse/us.amazon.nova-micro-v1:0', region: 'us-east-1' };
const BASE = { models: [CLAUDE, NOVA] };

function client(h: Harness): OpenAI {
  return new OpenAI({ baseURL: `${h.url}/v1`, apiKey: 'unused', maxRetries: 0 });
}

test('responses: responses.create answers a response object with output_text and usage, and stores it', () =>
  withHarness(BASE, async (h) => {
    h.emu.script({ type: 'text', text: 'Hello — from Claude 👋', usage: { inputTokens: 12, outputTokens: 7 } });
    const r = await client(h).responses.create({ model: 'claude', input: 'Say hello', instructions: 'Be brief.' });
    assert.equal(r.status, 'completed');
    assert.equal(r.output_text, 'Hello — from Claude 👋');
    assert.match(r.id, /^resp_/);
    assert.equal(r.usage?.input_tokens, 12);
    assert.equal(r.usage?.output_tokens, 7);
    assert.equal(r.usage?.total_tokens, 19);
    const sent = h.emu.requests[0]!.json as { system?: string; messages: unknown[] };
    assert.equal(sent.system, 'Be brief.');
    const got = await client(h).responses.retrieve(r.id);
    assert.equal(got.output_text, 'Hello — from Claude 👋');
    const deleted = await fetch(`${h.url}/v1/responses/${r.id}`, { method: 'DELETE' });
    assert.equal(deleted.status, 200);
    const missing = await fetch(`${h.url}/v1/responses/${r.id}`);
    assert.equal(missing.status, 404);
    assert.match(((await missing.json()) as { error: { message: string } }).error.message, new RegExp(r.id));
  }));

test('responses: a stream runs the documented lifecycle with sequence numbers, re-chunked text and one completed', () =>
  withHarness(BASE, async (h) => {
    h.emu.script({ type: 'text', text: 'abcdefghij', deltas: ['abcdefghij'] });
    const stream = (await client(h).responses.create({
      model: 'nova',
      input: 'hi',
      stream: true,
      stream_chunk_size: 4,
    } as never)) as unknown as AsyncIterable<{
      type: string;
      sequence_number: number;
      delta?: string;
      response?: { output_text?: string; status: string };
    }>;
    const types: string[] = [];
    const deltas: string[] = [];
    let seq = -1;
    let completed: { status: string } | undefined;
    for await (const event of stream) {
      types.push(event.type);
      assert.equal(event.sequence_number, seq + 1);
      seq = event.sequence_number;
      if (event.type === 'response.output_text.delta') deltas.push(event.delta!);
      if (event.type === 'response.completed') completed = event.response;
    }
    assert.deepEqual(deltas, ['abcd', 'efgh', 'ij']);
    assert.deepEqual(
      types.filter((t) => !t.endsWith('.delta')),
      [
        'response.created',
        'response.in_progress',
        'response.output_item.added',
        'response.content_part.added',
        'response.output_text.done',
        'response.content_part.done',
        'response.output_item.done',
        'response.completed',
      ],
    );
    assert.equal(completed?.status, 'completed');
  }));

test('responses: responses.stream gives the final response; previous_response_id continues the conversation', () =>
  withHarness(BASE, async (h) => {
    const openai = client(h);
    h.emu.script({ type: 'text', text: 'Your name is Ada.' });
    const first = await openai.responses.stream({ model: 'claude', input: 'My name is Ada. Remember it.' }).finalResponse();
    assert.equal(first.output_text, 'Your name is Ada.');
    h.emu.script({ type: 'text', text: 'Ada.' });
    const second = await openai.responses.create({ model: 'claude', input: 'What is my name?', previous_response_id: first.id });
    assert.equal(second.output_text, 'Ada.');
    assert.equal(second.previous_response_id, first.id);
    const sent = h.emu.requests[1]!.json as { messages: Array<{ role: string; content: Array<{ text?: string }> }> };
    assert.deepEqual(
      sent.messages.map((m) => m.role),
      ['user', 'assistant', 'user'],
    );
    assert.equal(sent.messages[1]!.content[0]!.text, 'Your name is Ada.');
    await assert.rejects(
      openai.responses.create({ model: 'claude', input: 'x', previous_response_id: 'resp_nope' }),
      (e: { status: number; message: string }) => e.status === 404 && /resp_nope/.test(e.message),
    );
  }));

test('responses: a function call round trip, arguments streamed, the tool output sent back as a tool result', () =>
  withHarness(BASE, async (h) => {
    const openai = client(h);
    const tools = [
      {
        type: 'function' as const,
        name: 'get_weather',
        description: 'Weather',
        parameters: { type: 'object', properties: { city: { type: 'string' } } },
        strict: false,
      },
    ];
    h.emu.script({ type: 'tool_use', calls: [{ id: 'toolu_1', name: 'get_weather', input: { city: 'Paris' } }] });
    const first = await openai.responses.create({ model: 'nova', input: 'Weather in Paris?', tools });
    const call = first.output.find((o) => o.type === 'function_call');
    assert.ok(call && call.type === 'function_call');
    assert.equal(call.name, 'get_weather');
    assert.equal(call.call_id, 'toolu_1');
    assert.deepEqual(JSON.parse(call.arguments), { city: 'Paris' });
    h.emu.script({ type: 'text', text: 'It is sunny.' });
    const second = await openai.responses.create({
      model: 'nova',
      tools,
      store: false,
      input: [
        { role: 'user', content: 'Weather in Paris?' },
        { type: 'function_call', call_id: 'toolu_1', name: 'get_weather', arguments: call.arguments },
        { type: 'function_call_output', call_id: 'toolu_1', output: '{"sky":"sunny"}' },
      ],
    });
    assert.equal(second.output_text, 'It is sunny.');
    const sent = h.emu.requests[1]!.json as { messages: Array<{ role: string; content: Array<Record<string, unknown>> }> };
    assert.ok(sent.messages[1]!.content.some((b) => 'toolUse' in b));
    assert.ok(sent.messages[2]!.content.some((b) => 'toolResult' in b));
  }));

test('responses: previous_response_id continues a tool call without re-sending tools, on a converse model too', () =>
  withHarness(BASE, async (h) => {
    // Tools are per request (OpenAI does not carry them over): a continuation that only sends the tool's
    // output is served; Converse, which refuses tool blocks without a toolConfig, is told of the tool the
    // history calls.
    const openai = client(h);
    const tools = [{ type: 'function' as const, name: 'get_weather', parameters: { type: 'object', properties: {} }, strict: false }];
    h.emu.script({ type: 'tool_use', calls: [{ id: 'toolu_2', name: 'get_weather', input: {} }] }, { type: 'text', text: 'Sunny.' });
    const first = await openai.responses.create({ model: 'nova', input: 'Weather?', tools });
    const second = await openai.responses.create({
      model: 'nova',
      previous_response_id: first.id,
      input: [{ type: 'function_call_output', call_id: 'toolu_2', output: 'sunny' }],
    });
    assert.equal(second.output_text, 'Sunny.');
    const sent = h.emu.requests.at(-1)!.json as { toolConfig?: unknown; messages: Array<{ content: Array<Record<string, unknown>> }> };
    assert.ok(sent.messages[1]!.content.some((b) => 'toolUse' in b));
    assert.deepEqual(sent.toolConfig, { tools: [{ toolSpec: { name: 'get_weather', inputSchema: { json: { type: 'object' } } } }] });
  }));

test('responses: Claude thinking travels in encrypted_content and goes back signed on the next turn', () =>
  withHarness(BASE, async (h) => {
    const openai = client(h);
    h.emu.script({ type: 'tool_use', reasoning: 'I should look it up.', calls: [{ id: 'toolu_9', name: 'lookup', input: { q: 'x' } }] });
    const tools = [
      { type: 'function' as const, name: 'lookup', parameters: { type: 'object', properties: { q: { type: 'string' } } }, strict: false },
    ];
    const first = await openai.responses.create({
      model: 'claude',
      input: 'Find x',
      tools,
      store: false,
      include: ['reasoning.encrypted_content'],
      reasoning: { effort: 'low' },
    });
    const reasoning = first.output.find((o) => o.type === 'reasoning');
    assert.ok(reasoning && reasoning.type === 'reasoning');
    assert.equal(reasoning.summary[0]?.text, 'I should look it up.');
    assert.ok(reasoning.encrypted_content);
    const call = first.output.find((o) => o.type === 'function_call')!;
    h.emu.script({ type: 'text', text: 'Found.' });
    await openai.responses.create({
      model: 'claude',
      tools,
      store: false,
      reasoning: { effort: 'low' },
      input: [
        { role: 'user', content: 'Find x' },
        reasoning,
        call,
        { type: 'function_call_output', call_id: 'toolu_9', output: 'x=1' },
      ] as never,
    });
    const sent = h.emu.requests[1]!.json as { messages: Array<{ role: string; content: Array<Record<string, unknown>> }> };
    const thinking = sent.messages[1]!.content[0]!;
    assert.equal(thinking.type, 'thinking');
    assert.equal(thinking.thinking, 'I should look it up.');
    assert.equal(typeof thinking.signature, 'string');
    assert.ok((thinking.signature as string).length > 0);
  }));

test('responses: several signed reasoning items of one answer go back each with its own signature, in order', () =>
  withHarness(BASE, async (h) => {
    const openai = client(h);
    h.emu.script({
      type: 'tool_use',
      reasoning: 'First, x.',
      text: 'Looking both up.',
      calls: [
        { id: 'toolu_1', name: 'lookup', input: { q: 'x' } },
        { id: 'toolu_2', name: 'lookup', input: { q: 'y' }, reasoning: 'Then y.' },
      ],
    });
    const tools = [
      { type: 'function' as const, name: 'lookup', parameters: { type: 'object', properties: { q: { type: 'string' } } }, strict: false },
    ];
    const ask = { model: 'claude', tools, reasoning: { effort: 'low' as const }, include: ['reasoning.encrypted_content' as const] };
    const first = await openai.responses.create({ ...ask, input: 'Find x and y' });
    assert.deepEqual(
      first.output.map((o) => o.type),
      ['reasoning', 'message', 'function_call', 'reasoning', 'function_call'],
    );
    const outputs = [
      { type: 'function_call_output' as const, call_id: 'toolu_1', output: 'x=1' },
      { type: 'function_call_output' as const, call_id: 'toolu_2', output: 'y=2' },
    ];
    const expected = (sent: { messages: Array<{ content: Array<Record<string, unknown>> }> }): void => {
      const turn = sent.messages[1]!.content;
      assert.deepEqual(
        turn.map((b) => (b.type === 'thinking' ? `thinking:${String(b.thinking)}` : String(b.type))),
        ['thinking:First, x.', 'text', 'tool_use', 'thinking:Then y.', 'tool_use'],
      );
      const signatures = turn.flatMap((b) => (b.type === 'thinking' ? [b.signature] : []));
      assert.equal(new Set(signatures).size, 2, `each block its own signature: ${signatures.join(', ')}`);
    };
    // From the stored response (previous_response_id) …
    h.emu.script({ type: 'text', text: 'Found.' });
    await openai.responses.create({ ...ask, previous_response_id: first.id, input: outputs });
    expected(h.emu.requests[1]!.json as never);
    // … and from the items themselves, as a stateless client sends them back.
    h.emu.script({ type: 'text', text: 'Found.' });
    await openai.responses.create({
      ...ask,
      store: false,
      input: [{ role: 'user', content: 'Find x and y' }, ...first.output, ...outputs] as never,
    });
    expected(h.emu.requests[2]!.json as never);
    assert.deepEqual(h.emu.requests[2]!.json, h.emu.requests[1]!.json);
  }));

test('responses: a built-in tool Bedrock cannot run is a 400 naming it; background is a 400; hints are dropped', () =>
  withHarness(BASE, async (h) => {
    const openai = client(h);
    await assert.rejects(
      openai.responses.create({ model: 'claude', input: 'x', tools: [{ type: 'web_search' }] }),
      (e: { status: number; message: string }) => e.status === 400 && /web_search/.test(e.message),
    );
    await assert.rejects(
      openai.responses.create({ model: 'claude', input: 'x', background: true }),
      (e: { status: number; message: string }) => e.status === 400 && /background/.test(e.message),
    );
    h.emu.script({ type: 'text', text: 'ok' });
    const r = await openai.responses.create({
      model: 'claude',
      input: 'x',
      prompt_cache_key: 'k',
      safety_identifier: 's',
      truncation: 'disabled',
      text: { verbosity: 'low' },
    } as never);
    assert.equal((r as { output_text: string }).output_text, 'ok');
  }));

test('responses: an output guardrail block mid-stream is error + response.failed with invalid_prompt, and the SDK raises it', async () => {
  const h = await startHarness({
    ...BASE,
    guardrails: [{ name: 'no-secrets', type: 'regex', patterns: ['nightingale'], stages: ['output'] }],
    models: [{ ...CLAUDE, guardrails: ['no-secrets'] }],
  });
  try {
    h.emu.script({ type: 'text', text: 'The codename is nightingale, obviously.' });
    const res = await fetch(`${h.url}/v1/responses`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ model: 'claude', input: 'x', stream: true }),
    });
    const text = await res.text();
    const events = text
      .trim()
      .split('\n\n')
      .filter((f) => !f.startsWith(':'))
      .map((f) => JSON.parse(f.split('\n')[1]!.slice(6)) as Record<string, unknown>);
    const last = events.slice(-2);
    assert.equal(last[0]!.type, 'error');
    assert.equal(last[0]!.code, 'invalid_prompt');
    assert.equal(last[0]!.message, 'Violated guardrail policy');
    assert.equal(last[0]!.guardrail, 'no-secrets');
    assert.equal(last[1]!.type, 'response.failed');
    assert.equal((last[1]!.response as { error: { code: string } }).error.code, 'invalid_prompt');
    assert.equal(events.filter((e) => e.type === 'response.completed').length, 0);
    h.emu.script({ type: 'text', text: 'The codename is nightingale, obviously.' });
    const stream = client(h).responses.stream({ model: 'claude', input: 'x' });
    // The SDK raises the error event itself: its message is the guardrail's.
    await assert.rejects(stream.finalResponse(), (e: { message?: string }) => e.message === 'Violated guardrail policy');
  } finally {
    await h.close();
  }
});

test("responses: an input_file PDF becomes a Bedrock document block; service_tier becomes Bedrock's tier", () =>
  withHarness(BASE, async (h) => {
    h.emu.script({ type: 'text', text: 'It says hello.' });
    const pdf = Buffer.from('%PDF-1.4 hello').toString('base64');
    const r = await client(h).responses.create({
      model: 'nova',
      service_tier: 'priority',
      input: [
        {
          role: 'user',
          content: [
            { type: 'input_text', text: 'What does it say?' },
            { type: 'input_file', filename: 'note.pdf', file_data: `data:application/pdf;base64,${pdf}` },
          ],
        },
      ],
    });
    assert.equal(r.output_text, 'It says hello.');
    const sent = h.emu.requests[0]!.json as {
      messages: Array<{ content: Array<Record<string, { format?: string; name?: string }>> }>;
      serviceTier?: unknown;
    };
    const doc = sent.messages[0]!.content.find((b) => 'document' in b)!.document!;
    assert.equal(doc.format, 'pdf');
    assert.equal(typeof doc.name, 'string');
    assert.deepEqual(sent.serviceTier, { type: 'priority' });
    await assert.rejects(
      client(h).responses.create({ model: 'nova', input: [{ role: 'user', content: [{ type: 'input_file', file_id: 'file-123' }] }] }),
      (e: { status: number; message: string }) => e.status === 400 && /file_id/.test(e.message),
    );
  }));

test('responses: GET and DELETE /v1/responses/{id} are store lookups: they answer while server.max_inflight is saturated', () =>
  withHarness({ ...BASE, server: { max_inflight: 1 } }, async (h) => {
    h.emu.script({ type: 'text', text: 'kept' });
    const stored = await client(h).responses.create({ model: 'claude', input: 'keep this' });
    // The one slot taken by a stream that is still answering: held until the lookups were answered (a paced
    // stream could end first on a loaded machine, and the refused request was served).
    const held = gate();
    h.emu.script({ type: 'text', text: 'a slow and steady answer', pause: { afterFrames: 2, until: held.opened, ms: 60_000 } });
    const holder = await fetch(`${h.url}/v1/responses`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ model: 'claude', input: 'slow', stream: true }),
    });
    assert.equal(holder.status, 200);
    const refused = await fetch(`${h.url}/v1/responses`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ model: 'claude', input: 'x' }),
    });
    assert.equal(refused.status, 503, 'model work is refused: the slot is taken');
    const got = await fetch(`${h.url}/v1/responses/${stored.id}`);
    assert.equal(got.status, 200);
    assert.equal(((await got.json()) as { id: string }).id, stored.id);
    assert.equal((await fetch(`${h.url}/v1/responses/${stored.id}`, { method: 'DELETE' })).status, 200);
    held.open();
    assert.match(await holder.text(), /response\.completed/);
  }));

test('responses: a refused reasoning.effort is named as the client spelled it, in param and message', () =>
  withHarness(BASE, async (h) => {
    const err = await client(h)
      .responses.create({ model: 'nova', input: 'hi', reasoning: { effort: 'low' } })
      .then(
        () => assert.fail('a Nova 1 model takes no reasoning effort'),
        (e: unknown) => e as { status: number; param: string; message: string },
      );
    assert.equal(err.status, 400);
    assert.equal(err.param, 'reasoning.effort');
    assert.match(err.message, /"reasoning\.effort" is not supported by us\.amazon\.nova-micro-v1:0/);
    assert.doesNotMatch(err.message, /reasoning_effort/);
    assert.equal(h.emu.requests.length, 0, 'nothing reached Bedrock');
  }));

test('responses: a Chat Completions key the client sent by mistake is named as it sent it, not as its Responses twin', () =>
  withHarness(BASE, async (h) => {
    // `max_tokens`, `reasoning_effort` and `response_format` are Chat's names; Responses reads none of them, so
    // the 400 must name the key the client wrote, which is the one to remove.
    for (const key of ['max_tokens', 'reasoning_effort', 'response_format']) {
      const value = key === 'max_tokens' ? 5 : key === 'reasoning_effort' ? 'low' : { type: 'json_object' };
      const res = await fetch(`${h.url}/v1/responses`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ model: 'nova', input: 'hi', [key]: value }),
      });
      assert.equal(res.status, 400, key);
      const { error } = (await res.json()) as { error: { type: string; param: string; message: string } };
      assert.equal(error.type, 'unsupported_parameter', key);
      assert.equal(error.param, key);
      assert.ok(error.message.startsWith(`"${key}" `), error.message);
    }
    assert.equal(h.emu.requests.length, 0, 'nothing reached Bedrock');
  }));

test('responses: a stream that fails after text keeps that text in response.failed; a length stop marks its message incomplete', () =>
  withHarness(BASE, async (h) => {
    // Claude's frames: message_start, content_block_start, then the two deltas; the exception after them.
    h.emu.script({
      type: 'text',
      text: 'Hello there, and more',
      deltas: ['Hello ', 'there', ', and more'],
      fault: { afterFrames: 4, kind: 'exception', exceptionType: 'modelStreamErrorException', message: 'the model broke' },
    });
    const res = await fetch(`${h.url}/v1/responses`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ model: 'claude', input: 'x', stream: true }),
    });
    const events = (await res.text())
      .trim()
      .split('\n\n')
      .filter((f) => !f.startsWith(':'))
      .map((f) => JSON.parse(f.split('\n')[1]!.slice(6)) as Record<string, any>);
    const failed = events.at(-1)!;
    assert.equal(failed.type, 'response.failed');
    assert.equal(failed.response.status, 'failed');
    assert.equal(failed.response.output.length, 1);
    const item = failed.response.output[0];
    assert.equal(item.type, 'message');
    assert.equal(item.status, 'incomplete');
    assert.deepEqual(item.content, [{ type: 'output_text', text: 'Hello there', annotations: [] }]);

    h.emu.script({ type: 'text', text: 'Cut sh', stopReason: 'max_tokens' });
    const r = await client(h).responses.create({ model: 'claude', input: 'x', max_output_tokens: 16 });
    assert.equal(r.status, 'incomplete');
    assert.equal(r.incomplete_details?.reason, 'max_output_tokens');
    assert.equal(r.output_text, 'Cut sh');
    assert.equal((r.output[0] as { status: string }).status, 'incomplete');
  }));

test('responses: previous_response_id carries the earlier developer and system items, not the earlier instructions', () =>
  withHarness(BASE, async (h) => {
    const openai = client(h);
    h.emu.script({ type: 'text', text: 'Bonjour.' });
    const first = await openai.responses.create({
      model: 'claude',
      instructions: 'First instructions.',
      input: [
        { role: 'developer', content: 'Answer in French.' },
        { role: 'user', content: 'Hello' },
      ],
    });
    assert.equal((h.emu.requests.at(-1)!.json as { system: string }).system, 'First instructions.\n\nAnswer in French.');
    h.emu.script({ type: 'text', text: 'Au revoir.' });
    const second = await openai.responses.create({
      model: 'claude',
      instructions: 'Second instructions.',
      previous_response_id: first.id,
      input: [
        { role: 'system', content: 'Be brief.' },
        { role: 'user', content: 'Bye' },
      ],
    });
    const sent = h.emu.requests.at(-1)!.json as { system: string; messages: Array<{ role: string }> };
    assert.equal(sent.system, 'Second instructions.\n\nAnswer in French.\n\nBe brief.');
    assert.deepEqual(
      sent.messages.map((m) => m.role),
      ['user', 'assistant', 'user'],
    );
    // A third turn without instructions: both earlier items still go, neither request's instructions.
    h.emu.script({ type: 'text', text: 'Oui.' });
    await openai.responses.create({ model: 'nova', previous_response_id: second.id, input: 'Again?' });
    const nova = h.emu.requests.at(-1)!.json as { system: unknown };
    assert.deepEqual(nova.system, [{ text: 'Answer in French.' }, { text: 'Be brief.' }]);
  }));
