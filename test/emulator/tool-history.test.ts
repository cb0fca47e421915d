// Tool-call histories real Bedrock refuses (src/emulator/tool-use-ids.ts and converse.ts cite the reports), driven
// with the real AWS SDK: Converse `toolUseId` past 64 characters or with `|`; Mistral's 9-alphanumeric ids on
// Converse and in its chat body; Claude's `^[a-zA-Z0-9_-]+$` ids in its own body; and Llama / Mistral refusing a
// user turn that holds tool results beside other blocks, which Claude and Nova take.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ConverseCommand, type ContentBlock, type Message } from '@aws-sdk/client-bedrock-runtime';
import { CLAUDE, claudeBody, post, refusalOf, sdkClient } from './helpers.ts';
import { withEmulator } from '../helpers/emulator.ts';

const TOOLS = { tools: [{ toolSpec: { name: 'get_weather', inputSchema: { json: { type: 'object' } } } }] };

/** A tool call answered, then a question, each turn as given. */
function history(id: string, resultTurn: ContentBlock[] = [{ toolResult: { toolUseId: id, content: [{ text: '21°C' }] } }]): Message[] {
  return [
    { role: 'user', content: [{ text: 'Weather in Lyon?' }] },
    { role: 'assistant', content: [{ toolUse: { toolUseId: id, name: 'get_weather', input: { city: 'Lyon' } } }] },
    { role: 'user', content: resultTurn },
  ];
}

test('tool history: Converse refuses a toolUseId over 64 characters or with `|`, in calls and results', async () => {
  await withEmulator(async (emu) => {
    const client = sdkClient(emu.url);
    const converse = (id: string): Promise<unknown> =>
      client.send(new ConverseCommand({ modelId: CLAUDE, messages: history(id), toolConfig: TOOLS }));
    const codex = 'call_65OReGAIB0M4612fiyF6YMbI|fc_0feebbbc39e113d4016969ff3539208191914ede46e71d5d06';
    // Codex's `call_…|fc_…` (earendil-works/pi #781): both constraints, on the call and on its result.
    const piped = await refusalOf(() => converse(codex));
    assert.match(piped!, /^4 validation errors detected: /);
    assert.ok(
      piped!.includes(
        `Value '${codex}' at 'messages.1.member.content.0.member.toolUse.toolUseId' failed to satisfy constraint: Member must satisfy regular expression pattern: [a-zA-Z0-9_.:-]+`,
      ),
      piped,
    );
    assert.ok(piped!.includes("at 'messages.2.member.content.0.member.toolResult.toolUseId'"), piped);
    const gemini = `d556q31u_ts_${'A'.repeat(60)}`;
    assert.match(
      (await refusalOf(() => converse(gemini)))!,
      /Value at 'messages\.1\.member\.content\.0\.member\.toolUse\.toolUseId' failed to satisfy constraint: Member must have length less than or equal to 64/,
    );
    // Ids of every common shape within the rule are taken: Claude's, OpenAI's, Bedrock's own.
    for (const id of ['toolu_01A09q90qw90lq917835lq9', 'call_abc123', 'tooluse_x-Y_1', 'a'.repeat(64)]) await converse(id);
  });
});

test('tool history: Mistral refuses any tool-call id but 9 alphanumerics, on Converse and in its chat body', async () => {
  await withEmulator(async (emu) => {
    const client = sdkClient(emu.url);
    for (const modelId of ['mistral.mistral-large-2407-v1:0', 'us.mistral.pixtral-large-2502-v1:0']) {
      for (const id of ['a', 'call_1', 'tooluse_abcdef', 'toolu_01A09q90qw90lq917835lq9', 'abcdefghi_']) {
        const message = await refusalOf(() => client.send(new ConverseCommand({ modelId, messages: history(id), toolConfig: TOOLS })));
        assert.equal(
          message,
          `The model returned the following errors: Tool call id was ${id} but must be a-z, A-Z, 0-9, with a length of 9.`,
          `${modelId} ${id}`,
        );
      }
      const answer = await client.send(new ConverseCommand({ modelId, messages: history('aB3dE6gH9'), toolConfig: TOOLS }));
      assert.ok(answer.output?.message, modelId);
    }
    // Claude takes Mistral's ids and the others alike.
    await client.send(new ConverseCommand({ modelId: CLAUDE, messages: history('call_1'), toolConfig: TOOLS }));

    const chatBody = (id: string): string =>
      JSON.stringify({
        messages: [
          { role: 'user', content: 'Weather in Lyon?' },
          { role: 'assistant', content: '', tool_calls: [{ id, type: 'function', function: { name: 'get_weather', arguments: '{}' } }] },
          { role: 'tool', tool_call_id: id, content: '21°C' },
        ],
        max_tokens: 50,
      });
    const invoke = (id: string) => post(emu.url, `/model/${encodeURIComponent('mistral.mistral-large-2407-v1:0')}/invoke`, chatBody(id));
    const refused = await invoke('call_1');
    assert.equal(refused.status, 400);
    assert.deepEqual(JSON.parse(refused.body.toString()), {
      message: 'The model returned the following errors: Tool call id was call_1 but must be a-z, A-Z, 0-9, with a length of 9.',
    });
    assert.equal((await invoke('aB3dE6gH9')).status, 200);
  });
});

test("tool history: Claude's own body refuses a tool_use id outside ^[a-zA-Z0-9_-]+$ (Kimi's functions.Bash:0)", async () => {
  await withEmulator(async (emu) => {
    const body = (id: string): string =>
      JSON.stringify(
        claudeBody('', {
          messages: [
            { role: 'user', content: 'List the files.' },
            { role: 'assistant', content: [{ type: 'tool_use', id, name: 'Bash', input: { command: 'ls' } }] },
            { role: 'user', content: [{ type: 'tool_result', tool_use_id: id, content: 'a.txt' }] },
          ],
        }),
      );
    const invoke = (id: string) => post(emu.url, `/model/${encodeURIComponent(CLAUDE)}/invoke`, body(id));
    const refused = await invoke('functions.Bash:0');
    assert.equal(refused.status, 400);
    assert.deepEqual(JSON.parse(refused.body.toString()), {
      message: "messages.1.content.0.tool_use.id: String should match pattern '^[a-zA-Z0-9_-]+$'",
    });
    assert.equal((await invoke('toolu_01A09q90qw90lq917835lq9')).status, 200);
  });
});

test('tool history: Llama and Mistral refuse tool results beside other blocks in one user turn; Claude and Nova take it', async () => {
  await withEmulator(async (emu) => {
    const client = sdkClient(emu.url);
    const mixed = (modelId: string) =>
      client.send(
        new ConverseCommand({
          modelId,
          toolConfig: TOOLS,
          messages: history('aB3dE6gH9', [{ toolResult: { toolUseId: 'aB3dE6gH9', content: [{ text: '21°C' }] } }, { text: 'And Paris?' }]),
        }),
      );
    for (const modelId of [
      'us.meta.llama3-3-70b-instruct-v1:0',
      'us.meta.llama4-maverick-17b-instruct-v1:0',
      'mistral.mistral-large-2407-v1:0',
    ]) {
      assert.equal(
        await refusalOf(() => mixed(modelId)),
        'messages.2.content: Conversation blocks and tool result blocks cannot be provided in the same turn.',
        modelId,
      );
      // Results alone, and the text inside the last result, are taken.
      await client.send(new ConverseCommand({ modelId, toolConfig: TOOLS, messages: history('aB3dE6gH9') }));
      const folded: ContentBlock[] = [{ toolResult: { toolUseId: 'aB3dE6gH9', content: [{ text: '21°C' }, { text: 'And Paris?' }] } }];
      await client.send(new ConverseCommand({ modelId, toolConfig: TOOLS, messages: history('aB3dE6gH9', folded) }));
    }
    for (const modelId of [CLAUDE, 'us.amazon.nova-pro-v1:0']) assert.ok((await mixed(modelId)).output?.message, modelId);
  });
});
