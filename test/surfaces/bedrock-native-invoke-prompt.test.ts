// The prompt-completion families' own InvokeModel bodies on the native surface (docs/contract.md#bedrock-native):
// Meta Llama, Mistral's prompt models, Titan Text and DeepSeek through the AWS SDK's BedrockRuntimeClient, whole and
// streamed, answers parsed as AWS's model-parameter pages say; the exact body Bedrock receives; Bedrock's 400
// for a member the body does not take; a target that cannot take the model's template refused; a guardrail
// block after the commit; a fallback in another region.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ValidationException } from '@aws-sdk/client-bedrock-runtime';
import { defaultReplyText } from '../../src/emulator/index.ts';
import { startHarness, type Harness } from '../helpers/harness.ts';
import { startTestEmulator } from '../helpers/emulator.ts';
import { assertBlockedLast, decodeFrames, invokeJson, invokeStreamJson } from './bedrock-native-helpers.ts';

const LLAMA = { name: 'llama', model: 'bedrock/invoke/us.meta.llama3-3-70b-instruct-v1:0', region: 'us-east-1' };
const LLAMA_CONVERSE = { name: 'llama-converse', model: 'bedrock/converse/us.meta.llama3-3-70b-instruct-v1:0', region: 'us-east-1' };
const MISTRAL = { name: 'mistral', model: 'bedrock/invoke/mistral.mistral-7b-instruct-v0:2', region: 'us-east-1' };
const TITAN = { name: 'titan', model: 'bedrock/invoke/amazon.titan-text-express-v1', region: 'us-east-1' };
const DEEPSEEK = { name: 'deepseek', model: 'bedrock/invoke/us.deepseek.r1-v1:0', region: 'us-east-1' };

type Json = Record<string, unknown>;

const invoke = invokeJson;
const stream = invokeStreamJson;

const llamaPrompt = (text: string): string =>
  `<|begin_of_text|><|start_header_id|>user<|end_header_id|>\n\n${text}<|eot_id|><|start_header_id|>assistant<|end_header_id|>\n\n`;

async function withRig(config: Json, run: (h: Harness) => Promise<void>): Promise<void> {
  const h = await startHarness({ models: [LLAMA, LLAMA_CONVERSE, MISTRAL, TITAN], ...config });
  try {
    await run(h);
  } finally {
    await h.close();
  }
}

test("Llama's own body: the whole answer and the stream are Llama's, and Bedrock receives the app's body", () =>
  withRig({}, async (h) => {
    const body = { prompt: llamaPrompt('hello llama'), max_gen_len: 300, temperature: 0.4, top_p: 0.9 };
    const answer = await invoke(h, 'llama', body);
    assert.equal(answer.generation, defaultReplyText('hello llama'));
    assert.equal(answer.stop_reason, 'stop');
    assert.equal(typeof answer.prompt_token_count, 'number');
    assert.equal(typeof answer.generation_token_count, 'number');
    assert.deepEqual(h.emu.requests.at(-1)!.json, body);

    h.emu.script({ type: 'text', text: 'one two three', usage: { inputTokens: 7, outputTokens: 3 } });
    const chunks = await stream(h, 'llama', { ...body, stream_chunk_size: 64 });
    assert.equal(chunks.map((c) => c.generation).join(''), 'one two three');
    assert.ok(chunks.slice(0, -1).every((c) => c.stop_reason === null));
    const last = chunks.at(-1)!;
    assert.equal(last.stop_reason, 'stop');
    assert.deepEqual(
      [
        (last['amazon-bedrock-invocationMetrics'] as Json).inputTokenCount,
        (last['amazon-bedrock-invocationMetrics'] as Json).outputTokenCount,
      ],
      [7, 3],
    );
    assert.deepEqual(h.emu.requests.at(-1)!.json, body, 'the sidecar parameter left the body');
    const line = h.logs.filter((l) => l.msg === 'request completed').at(-1)!;
    assert.deepEqual([line.surface, line.alias, line.status], ['native', 'llama', 200]);
  }));

test("Mistral's prompt body and Titan Text's body: each family's own answers", () =>
  withRig({}, async (h) => {
    const mistral = { prompt: '<s>[INST] hi mistral [/INST]', max_tokens: 50, top_k: 5, stop: ['</s>'] };
    const answer = await invoke(h, 'mistral', mistral);
    assert.deepEqual(answer, { outputs: [{ text: defaultReplyText('hi mistral'), stop_reason: 'stop' }] });
    assert.deepEqual(h.emu.requests.at(-1)!.json, mistral);
    const chunks = await stream(h, 'mistral', mistral);
    assert.equal(chunks.map((c) => (c.outputs as Array<{ text: string }>)[0]!.text).join(''), defaultReplyText('hi mistral'));
    assert.equal((chunks.at(-1)!.outputs as Array<{ stop_reason: string }>)[0]!.stop_reason, 'stop');

    const titan = { inputText: 'User: hi titan\nBot:', textGenerationConfig: { maxTokenCount: 100, temperature: 0.2 } };
    const whole = await invoke(h, 'titan', titan);
    const result = (whole.results as Json[])[0]!;
    assert.equal(result.outputText, defaultReplyText('hi titan'));
    assert.equal(result.completionReason, 'FINISH');
    assert.equal(typeof whole.inputTextTokenCount, 'number');
    assert.deepEqual(h.emu.requests.at(-1)!.json, titan);
    const titanChunks = await stream(h, 'titan', titan);
    assert.equal(titanChunks.map((c) => c.outputText).join(''), defaultReplyText('hi titan'));
    assert.equal(titanChunks.at(-1)!.completionReason, 'FINISH');
    assert.ok(titanChunks.at(-1)!['amazon-bedrock-invocationMetrics']);
  }));

test("a member the family's body does not take is Bedrock's 400; a target that cannot read the template is refused", () =>
  withRig({}, async (h) => {
    for (const [modelId, body, message] of [
      ['llama', { prompt: 'x', max_tokens: 5 }, /#: extraneous key \[max_tokens\] is not permitted/],
      ['llama', { max_gen_len: 5 }, /#: required key \[prompt\] not found/],
      ['mistral', { prompt: 'x', max_gen_len: 5 }, /extraneous key \[max_gen_len\]/],
      ['titan', { inputText: 'x', textGenerationConfig: { maxTokens: 5 } }, /#\/textGenerationConfig: extraneous key \[maxTokens\]/],
      ['llama-converse', { prompt: llamaPrompt('x') }, /chat template.*llama-converse/],
    ] as const) {
      await assert.rejects(
        invoke(h, modelId, body),
        (error: unknown) => error instanceof ValidationException && message.test(error.message),
        `${modelId} ${JSON.stringify(body)}`,
      );
    }
    assert.equal(h.emu.requests.length, 0);
  }));

test('a guardrail on a Llama stream: a block after the commit is the exception frame; a mask is sent masked', () =>
  withRig(
    {
      guardrails: [
        { name: 'no-birds', type: 'regex', patterns: ['(?i)nightingale'] },
        { name: 'mask-ids', type: 'regex', patterns: ['\\d{3}-\\d{2}-\\d{4}'], action: 'mask' },
      ],
      models: [{ ...LLAMA, name: 'guarded', guardrails: ['no-birds', 'mask-ids'] }],
    },
    async (h) => {
      h.emu.script({ type: 'text', text: 'a song of the nightingale' });
      const res = await fetch(`${h.url}/model/guarded/invoke-with-response-stream`, {
        method: 'POST',
        body: JSON.stringify({ prompt: llamaPrompt('sing') }),
      });
      assert.equal(res.status, 200);
      assertBlockedLast(decodeFrames(Buffer.from(await res.arrayBuffer())), 'no-birds');

      await invoke(h, 'guarded', { prompt: llamaPrompt('my id is 123-45-6789'), max_gen_len: 20 });
      assert.deepEqual(h.emu.requests.at(-1)!.json, { prompt: llamaPrompt('my id is [REDACTED]'), max_gen_len: 20 });
    },
  ));

test('a throttled Llama alias fails over to the same model in another region, sent the same body', async () => {
  const west = await startTestEmulator();
  const h = await startHarness({
    upstream: { max_attempts: 1 },
    models: [
      { ...LLAMA, fallbacks: ['llama-converse', 'llama-west'] },
      LLAMA_CONVERSE,
      { ...LLAMA, name: 'llama-west', region: 'us-west-2', endpoint: west.url },
    ],
  });
  try {
    h.emu.setBehavior({ kind: 'throttle' });
    const body = { prompt: llamaPrompt('fail over') };
    const answer = await invoke(h, 'llama', body);
    assert.equal(answer.generation, defaultReplyText('fail over'));
    assert.equal(west.requests.length, 1);
    assert.deepEqual(west.requests[0]!.json, body);
    assert.ok(!h.emu.requests.some((r) => r.operation === 'Converse'), 'the converse alias was skipped');
  } finally {
    await h.close();
    await west.close();
  }
});

test("DeepSeek R1's own body: its reasoning stays inline in the text, closed by </think>, whole and streamed", () =>
  withRig({ models: [DEEPSEEK] }, async (h) => {
    const body = {
      prompt: '<｜begin▁of▁sentence｜><｜User｜>why?<｜Assistant｜><think>\n',
      max_tokens: 100,
      stop: ['<｜end▁of▁sentence｜>'],
    };
    const reply = { type: 'text' as const, text: 'Because.', reasoning: 'Let me think.' };
    h.emu.script(reply);
    const answer = await invoke(h, 'deepseek', body);
    assert.deepEqual(answer, { choices: [{ text: 'Let me think.\n</think>\n\nBecause.', stop_reason: 'stop' }] });
    assert.deepEqual(h.emu.requests.at(-1)!.json, body);
    h.emu.script(reply);
    const chunks = await stream(h, 'deepseek', body);
    const choice = (c: Json): { text: string; stop_reason: string | null } =>
      (c.choices as Array<{ text: string; stop_reason: string | null }>)[0]!;
    assert.equal(chunks.map((c) => choice(c).text).join(''), 'Let me think.\n</think>\n\nBecause.');
    assert.equal(choice(chunks.at(-1)!).stop_reason, 'stop');
    assert.ok(chunks.at(-1)!['amazon-bedrock-invocationMetrics']);
  }));
