// Converse `toolResult` blocks beyond text (docs/contract.md#bedrock-native): images, documents and
// `status: "error"`, sent by the AWS SDK's own BedrockRuntimeClient, reach a converse target as Bedrock takes
// them and a Claude invoke target as `tool_result` content blocks with `is_error`; a target that cannot take
// them (Bedrock: only Nova and Claude 3/4 read them) is Bedrock's 400 before any call. The emulator records
// the exact body each target was sent (and validates it as Bedrock would).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { BedrockRuntimeClient, ConverseCommand, ValidationException, type Message } from '@aws-sdk/client-bedrock-runtime';
import { NodeHttpHandler } from '@smithy/node-http-handler';
import { startHarness } from '../helpers/harness.ts';
import { otherCredentials } from '../helpers/credentials.ts';
import { FAILED_SCREENSHOT_RESULT, failedScreenshot } from '../helpers/tool-results.ts';

const CLAUDE = 'us.anthropic.claude-sonnet-4-20250514-v1:0';
const MODELS = [
  { name: 'claude-converse', model: `bedrock/converse/${CLAUDE}`, region: 'us-east-1' },
  { name: 'claude-invoke', model: `bedrock/invoke/${CLAUDE}`, region: 'us-east-1' },
  { name: 'nova-invoke', model: 'bedrock/invoke/us.amazon.nova-lite-v1:0', region: 'us-east-1' },
  { name: 'llama', model: 'bedrock/converse/us.meta.llama3-3-70b-instruct-v1:0', region: 'us-east-1' },
  { name: 'mistral-invoke', model: 'bedrock/invoke/mistral.mistral-large-2407-v1:0', region: 'us-east-1' },
];
const PNG = Buffer.from('89504e470d0a1a0a0000000d49484452', 'hex');
const NOTES = Buffer.from('line one\nline two\n', 'utf8');
const TOOLS = { tools: [{ toolSpec: { name: 'screenshot', inputSchema: { json: { type: 'object', properties: {} } } } }] };

function conversation(result: Record<string, unknown>): Message[] {
  return [
    { role: 'user', content: [{ text: 'take a screenshot' }] },
    { role: 'assistant', content: [{ toolUse: { toolUseId: 'tool-1', name: 'screenshot', input: {} } }] },
    { role: 'user', content: [{ toolResult: { toolUseId: 'tool-1', ...result } } as never, { text: 'what do you see?' }] },
  ];
}

const RICH = {
  status: 'error',
  content: [
    { text: 'partial capture' },
    { image: { format: 'png', source: { bytes: PNG } } },
    { document: { format: 'txt', name: 'notes', source: { bytes: NOTES } } },
  ],
};

test('converse toolResult: image, document and status error reach Claude on converse and on invoke, and Nova on invoke', async () => {
  const h = await startHarness({ models: MODELS });
  try {
    const sdk = new BedrockRuntimeClient({
      region: 'us-east-1',
      endpoint: h.url,
      credentials: otherCredentials('app-client'),
      requestHandler: new NodeHttpHandler(),
      maxAttempts: 1,
    });
    const send = (modelId: string, result: Record<string, unknown>) =>
      sdk.send(new ConverseCommand({ modelId, toolConfig: TOOLS, messages: conversation(result) }));

    for (const modelId of ['claude-converse', 'nova-invoke']) {
      const answer = await send(modelId, RICH);
      assert.equal(answer.stopReason, 'end_turn', modelId);
      const upstream = h.emu.requests.at(-1)!.json as { messages: Array<{ content: unknown[] }> };
      assert.deepEqual(
        upstream.messages[2]!.content[0],
        {
          toolResult: {
            toolUseId: 'tool-1',
            content: [
              { text: 'partial capture' },
              { image: { format: 'png', source: { bytes: PNG.toString('base64') } } },
              { document: { format: 'txt', name: 'notes', source: { bytes: NOTES.toString('base64') } } },
            ],
            status: 'error',
          },
        },
        modelId,
      );
    }

    const claude = await send('claude-invoke', RICH);
    assert.equal(claude.stopReason, 'end_turn');
    const body = h.emu.requests.at(-1)!.json as { messages: Array<{ content: unknown[] }> };
    assert.deepEqual(body.messages[2]!.content, [
      {
        type: 'tool_result',
        tool_use_id: 'tool-1',
        content: [
          { type: 'text', text: 'partial capture' },
          { type: 'image', source: { type: 'base64', media_type: 'image/png', data: PNG.toString('base64') } },
          { type: 'document', source: { type: 'text', media_type: 'text/plain', data: NOTES.toString('utf8') }, title: 'notes' },
        ],
        is_error: true,
      },
      { type: 'text', text: 'what do you see?' },
    ]);

    // status success alone changes nothing: one text block, no status (as before).
    await send('claude-converse', { status: 'success', content: [{ text: 'ok' }] });
    const plain = h.emu.requests.at(-1)!.json as { messages: Array<{ content: unknown[] }> };
    assert.deepEqual(plain.messages[2]!.content[0], { toolResult: { toolUseId: 'tool-1', content: [{ text: 'ok' }] } });
    // A failure with text only still says so.
    await send('claude-invoke', { status: 'error', content: [{ text: 'boom' }] });
    const failed = h.emu.requests.at(-1)!.json as { messages: Array<{ content: unknown[] }> };
    assert.deepEqual(failed.messages[2]!.content[0], {
      type: 'tool_result',
      tool_use_id: 'tool-1',
      content: [{ type: 'text', text: 'boom' }],
      is_error: true,
    });

    // Targets that cannot take them: Bedrock's 400 naming what, before any call.
    const before = h.emu.requests.length;
    const cases: Array<[string, Record<string, unknown>, RegExp]> = [
      [
        'llama',
        { content: [{ image: { format: 'png', source: { bytes: PNG } } }] },
        /meta on the converse route takes no images in a tool result \(tool-1\)/,
      ],
      ['llama', { status: 'error', content: [{ text: 'boom' }] }, /meta on the converse route takes no error status in a tool result/],
      [
        'mistral-invoke',
        { content: [{ document: { format: 'txt', name: 'notes', source: { bytes: NOTES } } }] },
        /mistral on the invoke route takes no documents in a tool result/,
      ],
    ];
    for (const [modelId, result, message] of cases) {
      await assert.rejects(send(modelId, result), (error: unknown) => {
        assert.ok(error instanceof ValidationException, String(error));
        assert.match(error.message, message);
        return true;
      });
    }
    await assert.rejects(send('claude-converse', { status: 'failed', content: [{ text: 'x' }] }), (error: unknown) => {
      assert.ok(error instanceof ValidationException, String(error));
      assert.match(error.message, /toolResult\.status: must be success or error/);
      return true;
    });
    assert.equal(h.emu.requests.length, before, 'nothing reached Bedrock');
  } finally {
    await h.close();
  }
});

test("InvokeModel with Claude's body to a converse alias of Claude: a tool_result's images and is_error reach Converse's toolResult", async () => {
  const h = await startHarness({ models: MODELS });
  try {
    const body = { anthropic_version: 'bedrock-2023-05-31', max_tokens: 50, ...failedScreenshot() };
    const res = await fetch(`${h.url}/model/claude-converse/invoke`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(body),
    });
    assert.equal(res.status, 200, await res.clone().text());
    const upstream = h.emu.requests.at(-1)!.json as { messages: Array<{ content: unknown[] }> };
    assert.deepEqual(upstream.messages[2]!.content[0], FAILED_SCREENSHOT_RESULT);
  } finally {
    await h.close();
  }
});
