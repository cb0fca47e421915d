// Claude's structured-output schema rules and its rule for thinking with a forced tool choice, in the
// emulator, through the AWS SDK (Converse, InvokeModel): what Bedrock refuses, in its words
// (src/emulator/structured-output.ts, src/emulator/families/anthropic.ts), and what it takes.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  ConverseCommand,
  InvokeModelCommand,
  ValidationException,
  type ConverseCommandInput,
  type ToolChoice,
} from '@aws-sdk/client-bedrock-runtime';
import { claudeConstraintProblem } from '../../src/emulator/structured-output.ts';
import { claudeBody, sdkClient } from './helpers.ts';
import { withEmulator } from '../helpers/emulator.ts';

const SONNET_45 = 'us.anthropic.claude-sonnet-4-5-20250929-v1:0';
const ERRORS = 'The model returned the following errors: ';

/** A closed object schema with one property. */
const withProperty = (schema: Record<string, unknown>): Record<string, unknown> => ({
  type: 'object',
  properties: { value: schema },
  required: ['value'],
  additionalProperties: false,
});

function converseInput(modelId: string, schema: Record<string, unknown>): ConverseCommandInput {
  return {
    modelId,
    messages: [{ role: 'user', content: [{ text: 'hi' }] }],
    outputConfig: { textFormat: { type: 'json_schema', structure: { jsonSchema: { name: 'answer', schema: JSON.stringify(schema) } } } },
  };
}

async function refusal(send: () => Promise<unknown>): Promise<string> {
  try {
    await send();
  } catch (error) {
    assert.ok(error instanceof ValidationException, String(error));
    return error.message;
  }
  assert.fail('Bedrock would refuse this request');
}

test("emulator: Claude's structured output refuses each constraint keyword per type, in Bedrock's words", () => {
  const cases: Array<[Record<string, unknown>, string]> = [
    [{ type: 'number', minimum: 0, maximum: 1 }, "For 'number' type, properties maximum, minimum are not supported"],
    [{ type: 'integer', maximum: 9007199254740991 }, "For 'integer' type, property 'maximum' is not supported"],
    [{ type: ['number', 'null'], multipleOf: 0.5 }, "For 'number' type, property 'multipleOf' is not supported"],
    [{ type: 'string', minLength: 1, maxLength: 8 }, "For 'string' type, properties maxLength, minLength are not supported"],
    [{ type: 'array', items: { type: 'string' }, maxItems: 3 }, "For 'array' type, property 'maxItems' is not supported"],
    [{ type: 'array', items: { type: 'string' }, uniqueItems: true }, "For 'array' type, property 'uniqueItems' is not supported"],
  ];
  for (const [schema, words] of cases) assert.equal(claudeConstraintProblem(withProperty(schema)), `output_config.format.schema: ${words}`);
  const twoLists = {
    type: 'object',
    properties: { a: { type: 'array', minItems: 2 }, b: { type: 'array', minItems: 5 } },
    additionalProperties: false,
  };
  assert.equal(
    claudeConstraintProblem(twoLists),
    "output_config.format.schema: For 'array' type, 'minItems' values other than 0 or 1 are not supported (got: [2, 5])",
  );
  // What Claude takes: minItems 0 or 1, a property that is called `minimum`, the keyword inside data (enum, default).
  for (const schema of [
    withProperty({ type: 'array', items: { type: 'string' }, minItems: 1 }),
    { type: 'object', properties: { minimum: { type: 'string' }, maxItems: { type: 'integer' } }, additionalProperties: false },
    withProperty({ type: 'object', properties: {}, additionalProperties: false, default: { minimum: 3 } }),
    withProperty({ type: 'string', pattern: '^[a-z]+$', format: 'email' }),
  ])
    assert.equal(claudeConstraintProblem(schema), undefined, JSON.stringify(schema));
});

test('emulator: Converse refuses a constraint keyword in a Claude schema inside the model errors; another family and a clean schema are answered', async () => {
  await withEmulator(async (emu) => {
    const client = sdkClient(emu.url);
    const bounded = withProperty({ type: 'integer', minimum: 0, maximum: 10 });
    assert.equal(
      await refusal(() => client.send(new ConverseCommand(converseInput(SONNET_45, bounded)))),
      `${ERRORS}output_config.format.schema: For 'integer' type, properties maximum, minimum are not supported`,
    );
    const answer = await client.send(new ConverseCommand(converseInput('openai.gpt-oss-20b-1:0', bounded)));
    assert.equal(answer.stopReason, 'end_turn');
    const clean = await client.send(new ConverseCommand(converseInput(SONNET_45, withProperty({ type: 'integer', description: 'x' }))));
    assert.equal(clean.stopReason, 'end_turn');
  });
});

test("emulator: Claude's InvokeModel body refuses a constraint keyword in output_config.format.schema", async () => {
  await withEmulator(async (emu) => {
    const client = sdkClient(emu.url);
    const body = (schema: Record<string, unknown>): string =>
      JSON.stringify(claudeBody('hi', { output_config: { format: { type: 'json_schema', schema } } }));
    assert.equal(
      await refusal(() =>
        client.send(new InvokeModelCommand({ modelId: SONNET_45, body: body(withProperty({ type: 'string', maxLength: 20 })) })),
      ),
      "output_config.format.schema: For 'string' type, property 'maxLength' is not supported",
    );
    const ok = await client.send(
      new InvokeModelCommand({ modelId: SONNET_45, body: body(withProperty({ type: 'string', description: 'at most 20' })) }),
    );
    assert.equal(ok.$metadata.httpStatusCode, 200);
  });
});

test('emulator: thinking with a forced tool choice is refused on Claude 3.7 to 4.7 and taken from Opus 4.8 on, on both routes', async () => {
  await withEmulator(async (emu) => {
    const client = sdkClient(emu.url);
    const tool = { name: 'f', description: 'f', input_schema: { type: 'object', properties: {} } };
    const invoke = (modelId: string, thinking: Record<string, unknown>, choice: Record<string, unknown>): Promise<unknown> =>
      client.send(
        new InvokeModelCommand({
          modelId,
          body: JSON.stringify(claudeBody('hi', { max_tokens: 4096, thinking, tools: [tool], tool_choice: choice })),
        }),
      );
    const budget = { type: 'enabled', budget_tokens: 1024 };
    const adaptive = { type: 'adaptive' };
    const refused = 'Thinking may not be enabled when tool_choice forces tool use.';
    assert.equal(await refusal(() => invoke(SONNET_45, budget, { type: 'any' })), refused);
    assert.equal(await refusal(() => invoke('us.anthropic.claude-3-7-sonnet-20250219-v1:0', budget, { type: 'tool', name: 'f' })), refused);
    assert.equal(await refusal(() => invoke('us.anthropic.claude-opus-4-7', adaptive, { type: 'any' })), refused);
    for (const [modelId, thinking, choice] of [
      [SONNET_45, budget, { type: 'auto' }],
      [SONNET_45, { type: 'disabled' }, { type: 'any' }],
      ['us.anthropic.claude-opus-4-8', adaptive, { type: 'any' }],
      ['us.anthropic.claude-sonnet-5', adaptive, { type: 'tool', name: 'f' }],
      ['global.anthropic.claude-fable-5', adaptive, { type: 'any' }],
    ] as const) {
      const ok = (await invoke(modelId, thinking, choice)) as { $metadata: { httpStatusCode?: number } };
      assert.equal(ok.$metadata.httpStatusCode, 200, `${modelId} ${JSON.stringify(thinking)} ${JSON.stringify(choice)}`);
    }

    const converse = (modelId: string, toolChoice: ToolChoice): ConverseCommandInput => ({
      modelId,
      messages: [{ role: 'user', content: [{ text: 'hi' }] }],
      toolConfig: { tools: [{ toolSpec: { name: 'f', inputSchema: { json: { type: 'object', properties: {} } } } }], toolChoice },
      additionalModelRequestFields: { thinking: adaptive },
    });
    assert.equal(
      await refusal(() => client.send(new ConverseCommand(converse('us.anthropic.claude-sonnet-4-6', { any: {} })))),
      `${ERRORS}${refused}`,
    );
    const ok = await client.send(new ConverseCommand(converse('us.anthropic.claude-opus-4-8', { tool: { name: 'f' } })));
    assert.ok(ok.stopReason);
    const auto = await client.send(new ConverseCommand(converse('us.anthropic.claude-sonnet-4-6', { auto: {} })));
    assert.ok(auto.stopReason);
  });
});

test('emulator: Claude from Opus 4.7 on takes no structured outputs on Bedrock, on both routes; earlier Claude does', async () => {
  await withEmulator(async (emu) => {
    const client = sdkClient(emu.url);
    const schema = withProperty({ type: 'string' });
    for (const modelId of [
      'us.anthropic.claude-opus-4-7',
      'us.anthropic.claude-opus-4-8',
      'global.anthropic.claude-sonnet-5',
      'anthropic.claude-fable-5',
    ]) {
      assert.equal(
        await refusal(() => client.send(new ConverseCommand(converseInput(modelId, schema)))),
        `${ERRORS}output_config.format: Extra inputs are not permitted`,
        modelId,
      );
      const body = JSON.stringify(claudeBody('hi', { output_config: { format: { type: 'json_schema', schema } } }));
      assert.equal(
        await refusal(() => client.send(new InvokeModelCommand({ modelId, body }))),
        'output_config.format: Extra inputs are not permitted',
        modelId,
      );
    }
    for (const modelId of [SONNET_45, 'us.anthropic.claude-opus-4-6-v1', 'global.anthropic.claude-sonnet-4-6']) {
      const answer = await client.send(new ConverseCommand(converseInput(modelId, schema)));
      assert.equal(answer.stopReason, 'end_turn', modelId);
    }
    // Effort alone in output_config is taken (it is `format` that is refused).
    const effort = await client.send(
      new InvokeModelCommand({
        modelId: 'us.anthropic.claude-opus-4-8',
        body: JSON.stringify(claudeBody('hi', { output_config: { effort: 'low' } })),
      }),
    );
    assert.equal(effort.$metadata.httpStatusCode, 200);
  });
});

test('emulator: Fable 5.1 and Mythos 5.1 take no forced tool at all, thinking or not; Fable 5 does', async () => {
  await withEmulator(async (emu) => {
    const client = sdkClient(emu.url);
    const tool = { name: 'f', description: 'f', input_schema: { type: 'object', properties: {} } };
    const invoke = (modelId: string, choice: Record<string, unknown>): Promise<unknown> =>
      client.send(new InvokeModelCommand({ modelId, body: JSON.stringify(claudeBody('hi', { tools: [tool], tool_choice: choice })) }));
    const refused = 'tool_choice: type "tool" and "any" are not supported for this model.';
    assert.equal(await refusal(() => invoke('global.anthropic.claude-fable-5-1', { type: 'any' })), refused);
    assert.equal(await refusal(() => invoke('anthropic.claude-mythos-5-1', { type: 'tool', name: 'f' })), refused);
    const converse: ConverseCommandInput = {
      modelId: 'global.anthropic.claude-fable-5-1',
      messages: [{ role: 'user', content: [{ text: 'hi' }] }],
      toolConfig: {
        tools: [{ toolSpec: { name: 'f', inputSchema: { json: { type: 'object', properties: {} } } } }],
        toolChoice: { any: {} },
      },
    };
    assert.equal(await refusal(() => client.send(new ConverseCommand(converse))), `${ERRORS}${refused}`);
    for (const [modelId, choice] of [
      ['global.anthropic.claude-fable-5-1', { type: 'auto' }],
      ['global.anthropic.claude-fable-5', { type: 'any' }],
    ] as const) {
      const ok = (await invoke(modelId, choice)) as { $metadata: { httpStatusCode?: number } };
      assert.equal(ok.$metadata.httpStatusCode, 200, `${modelId} ${JSON.stringify(choice)}`);
    }
  });
});
