// Messages `document` blocks (docs/contract.md#anthropic-messages): a PDF the user attached, a text-source
// document, and Claude Code's Read of a PDF (a tool_result holding the document) sent with the real Anthropic
// SDK. Claude and Nova on converse get Converse documents — in user content and as toolResult content —
// named by Bedrock's rule; Llama reads the user's documents but no tool-result document (dropped and logged,
// and the result says what it held); a family that reads no documents is a 400 naming the part; a URL or file
// document is a 400 for every translated target; Claude on invoke still gets the client's own body.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import Anthropic from '@anthropic-ai/sdk';
import { startHarness, type Harness } from '../helpers/harness.ts';
import { startHostileUpstream } from '../helpers/hostile-upstream.ts';

/** `%PDF-1.4\n`, base64: a PDF header is all Bedrock's (and the emulator's) checks look at. */
const PDF = Buffer.from('%PDF-1.4\n').toString('base64');
const NOTES = 'plain notes: ship on Friday';

const MODELS = [
  { name: 'claude-converse', model: 'bedrock/converse/us.anthropic.claude-sonnet-4-20250514-v1:0', region: 'us-east-1' },
  { name: 'nova', model: 'bedrock/converse/us.amazon.nova-pro-v1:0', region: 'us-east-1' },
  { name: 'llama', model: 'bedrock/converse/us.meta.llama3-3-70b-instruct-v1:0', region: 'us-east-1' },
  { name: 'oss', model: 'bedrock/converse/openai.gpt-oss-120b-1:0', region: 'us-west-2' },
  { name: 'claude-invoke', model: 'bedrock/invoke/us.anthropic.claude-sonnet-4-5-20250929-v1:0', region: 'us-east-1' },
];

const READ_TOOL: Anthropic.Tool = {
  name: 'Read',
  description: 'Reads a file',
  input_schema: { type: 'object', properties: { file_path: { type: 'string' } } },
};

/** A user's PDF and text document, then Claude Code's Read of a PDF: the tool result is the document alone. */
function conversation(): Anthropic.MessageParam[] {
  return [
    {
      role: 'user',
      content: [
        { type: 'document', source: { type: 'base64', media_type: 'application/pdf', data: PDF }, title: 'Q3 report.pdf' },
        { type: 'document', source: { type: 'text', media_type: 'text/plain', data: NOTES }, title: 'notes: draft #2' },
        { type: 'text', text: 'Summarise these, then read spec.pdf' },
      ],
    },
    { role: 'assistant', content: [{ type: 'tool_use', id: 'toolu_1', name: 'Read', input: { file_path: '/work/spec.pdf' } }] },
    {
      role: 'user',
      content: [
        {
          type: 'tool_result',
          tool_use_id: 'toolu_1',
          content: [{ type: 'document', source: { type: 'base64', media_type: 'application/pdf', data: PDF } }],
        },
      ],
    },
  ];
}

const USER_TURN = {
  role: 'user',
  content: [
    { document: { format: 'pdf', name: 'Q3 report', source: { bytes: PDF } } },
    { document: { format: 'txt', name: 'notes- draft -2', source: { bytes: Buffer.from(NOTES).toString('base64') } } },
    { text: 'Summarise these, then read spec.pdf' },
  ],
};
const TOOL_TURN = {
  role: 'assistant',
  content: [{ toolUse: { toolUseId: 'toolu_1', name: 'Read', input: { file_path: '/work/spec.pdf' } } }],
};

/** The Converse `messages` each converse alias must be sent for `conversation()`. */
const EXPECTED: Record<string, unknown[]> = {
  'us.anthropic.claude-sonnet-4-20250514-v1:0': [
    USER_TURN,
    TOOL_TURN,
    {
      role: 'user',
      content: [
        { toolResult: { toolUseId: 'toolu_1', content: [{ document: { format: 'pdf', name: 'document 3', source: { bytes: PDF } } }] } },
      ],
    },
  ],
  'us.amazon.nova-pro-v1:0': [
    USER_TURN,
    TOOL_TURN,
    {
      role: 'user',
      content: [
        { toolResult: { toolUseId: 'toolu_1', content: [{ document: { format: 'pdf', name: 'document 3', source: { bytes: PDF } } }] } },
      ],
    },
  ],
  'us.meta.llama3-3-70b-instruct-v1:0': [
    USER_TURN,
    TOOL_TURN,
    {
      role: 'user',
      content: [
        { toolResult: { toolUseId: 'toolu_1', content: [{ text: '(the tool returned a document, which this model cannot read)' }] } },
      ],
    },
  ],
};

test('messages documents: a strict Bedrock takes the exact Converse documents from Claude, Nova and Llama aliases', async () => {
  // Answers only the exact messages expected for the model in the path; anything else is a 400 showing the body.
  const upstream = await startHostileUpstream((req, res, body) => {
    const modelId = decodeURIComponent(/^\/model\/([^/]+)\/converse$/.exec(req.url ?? '')?.[1] ?? '');
    const sent = JSON.parse(body.toString('utf8')) as { messages: unknown };
    let problem: string | undefined;
    try {
      assert.deepEqual(sent.messages, EXPECTED[modelId]);
    } catch (error) {
      problem = `${modelId}: ${(error as Error).message}`;
    }
    const answer = problem
      ? { message: problem }
      : {
          output: { message: { role: 'assistant', content: [{ text: `read by ${modelId}` }] } },
          stopReason: 'end_turn',
          usage: { inputTokens: 9, outputTokens: 3, totalTokens: 12 },
          metrics: { latencyMs: 5 },
        };
    res.writeHead(problem ? 400 : 200, {
      'content-type': 'application/json',
      ...(problem ? { 'x-amzn-errortype': 'ValidationException:http://internal.amazon.com/coral/com.amazon.bedrock/' } : {}),
    });
    res.end(JSON.stringify(answer));
  });
  const h = await startHarness({ models: MODELS }, { env: { AWS_ENDPOINT_URL_BEDROCK_RUNTIME: upstream.url } });
  const client = new Anthropic({ baseURL: h.url, apiKey: 'unused', maxRetries: 0 });
  try {
    for (const model of ['claude-converse', 'nova', 'llama']) {
      const logged = h.logs.length;
      const message = await client.messages.create({ model, max_tokens: 100, tools: [READ_TOOL], messages: conversation() });
      assert.equal(message.content[0]?.type === 'text' && message.content[0].text.startsWith('read by '), true, model);
      const lines = h.logs.slice(logged).map((l) => String(l.msg));
      const dropped =
        'messages[2].content[0].content[0]: meta on the converse route takes no documents in a tool result (toolu_1): dropped';
      assert.equal(
        lines.some((l) => l.includes(dropped)),
        model === 'llama',
        `${model}: ${lines.join('\n')}`,
      );
    }
    assert.equal(upstream.requests.length, 3);
  } finally {
    await h.close();
    await upstream.close();
  }
});

async function rig(): Promise<{ h: Harness; client: Anthropic }> {
  const h = await startHarness({ models: MODELS });
  return { h, client: new Anthropic({ baseURL: h.url, apiKey: 'unused', maxRetries: 0 }) };
}

function upstreamBody(h: Harness): Record<string, any> {
  return JSON.parse(h.emu.requests.at(-1)!.body.toString('utf8')) as Record<string, any>;
}

test('messages documents: the emulator (an independent reading of Bedrock) takes them, streamed and whole; Claude on invoke gets the client body', async () => {
  const { h, client } = await rig();
  try {
    for (const model of ['claude-converse', 'nova', 'llama']) {
      h.emu.script({ type: 'text', text: 'whole' });
      const whole = await client.messages.create({ model, max_tokens: 100, tools: [READ_TOOL], messages: conversation() });
      assert.deepEqual(whole.content, [{ type: 'text', text: 'whole' }], model);
      h.emu.script({ type: 'text', text: 'streamed' });
      const stream = client.messages.stream({ model, max_tokens: 100, tools: [READ_TOOL], messages: conversation() });
      assert.equal(await stream.finalText(), 'streamed', model);
      assert.equal(h.emu.requests.at(-1)!.status, 200, model);
    }
    // Claude on invoke: the documents as the client sent them (six: more than Converse takes in one request).
    const messages = conversation();
    const first = messages[0]!.content as Anthropic.ContentBlockParam[];
    for (let n = 0; n < 4; n++) first.unshift({ type: 'document', source: { type: 'base64', media_type: 'application/pdf', data: PDF } });
    h.emu.script({ type: 'text', text: 'invoke' });
    const invoke = await client.messages.create({ model: 'claude-invoke', max_tokens: 100, tools: [READ_TOOL], messages });
    assert.deepEqual(invoke.content, [{ type: 'text', text: 'invoke' }]);
    assert.deepEqual(upstreamBody(h).messages, messages);
  } finally {
    await h.close();
  }
});

test('messages documents: a URL or file document is a 400 naming it for a translated target, and goes to Claude on invoke', async () => {
  const { h, client } = await rig();
  try {
    const sources = [
      [{ type: 'url', url: 'https://example.com/a.pdf' }, 'a document from a URL'],
      [{ type: 'file', file_id: 'file_011' }, 'a document by file id'],
    ] as const;
    for (const [source, why] of sources) {
      const messages = [
        {
          role: 'user',
          content: [
            { type: 'document', source },
            { type: 'text', text: 'read it' },
          ],
        },
      ] as unknown as Anthropic.MessageParam[];
      for (const model of ['claude-converse', 'nova', 'llama']) {
        const error = await client.messages.create({ model, max_tokens: 10, messages }).then(
          () => assert.fail(`${model} took a ${source.type} document`),
          (e: unknown) => e,
        );
        assert.ok(error instanceof Anthropic.BadRequestError, model);
        assert.match(error.message, new RegExp(`messages\\[0\\]\\.content\\[0\\] \\(${why}\\) cannot be sent to`), model);
      }
      h.emu.script({ type: 'text', text: 'fetched' });
      await client.messages.create({ model: 'claude-invoke', max_tokens: 10, messages });
      assert.deepEqual(upstreamBody(h).messages, messages);
    }
  } finally {
    await h.close();
  }
});

test("messages documents: a user's document to a family that reads none is a 400 naming it; a tool result's is dropped there", async () => {
  const { h, client } = await rig();
  try {
    const error = await client.messages.create({ model: 'oss', max_tokens: 10, messages: conversation() }).then(
      () => assert.fail('gpt-oss took a document'),
      (e: unknown) => e,
    );
    assert.ok(error instanceof Anthropic.BadRequestError);
    assert.match(error.message, /messages\[0\]\.content\[0\]: openai on the converse route takes no PDF documents/);
    // Claude Code's Read of a PDF alone still works there: the turn goes on without the document.
    const [, ask, answer] = conversation();
    h.emu.script({ type: 'text', text: 'no pdf here' });
    const message = await client.messages.create({
      model: 'oss',
      max_tokens: 10,
      tools: [READ_TOOL],
      messages: [{ role: 'user', content: 'read spec.pdf' }, ask!, answer!],
    });
    assert.deepEqual(message.content, [{ type: 'text', text: 'no pdf here' }]);
    assert.deepEqual(upstreamBody(h).messages[2].content, [
      { toolResult: { toolUseId: 'toolu_1', content: [{ text: '(the tool returned a document, which this model cannot read)' }] } },
    ]);
  } finally {
    await h.close();
  }
});

test('messages documents: a content source becomes its text and images; citations and context are dropped and logged for a translated target', async () => {
  const { h, client } = await rig();
  try {
    const messages: Anthropic.MessageParam[] = [
      {
        role: 'user',
        content: [
          {
            type: 'document',
            source: {
              type: 'content',
              content: [
                { type: 'text', text: 'chunk one' },
                { type: 'text', text: 'chunk two' },
              ],
            },
            title: 'chunks',
            context: 'from the wiki',
            citations: { enabled: true },
          },
          { type: 'text', text: 'cite them' },
        ],
      },
    ];
    h.emu.script({ type: 'text', text: 'cited' });
    let logged = h.logs.length;
    await client.messages.create({ model: 'claude-converse', max_tokens: 10, messages });
    assert.deepEqual(upstreamBody(h).messages, [
      { role: 'user', content: [{ text: 'chunk one' }, { text: 'chunk two' }, { text: 'cite them' }] },
    ]);
    const lines = h.logs.slice(logged).map((l) => String(l.msg));
    for (const field of ['citations', 'context']) {
      assert.ok(
        lines.some((l) =>
          l.startsWith(`messages[0].content[0].${field} dropped: anthropic on the converse route gets the translated body`),
        ),
        lines.join('\n'),
      );
    }
    logged = h.logs.length;
    h.emu.script({ type: 'text', text: 'cited' });
    await client.messages.create({ model: 'claude-invoke', max_tokens: 10, messages });
    assert.deepEqual(upstreamBody(h).messages, messages, "Claude's own body keeps them");
    assert.equal(
      h.logs.slice(logged).some((l) => String(l.msg).includes('dropped: anthropic')),
      false,
    );
  } finally {
    await h.close();
  }
});

test('messages documents: count_tokens counts the documents the call would send, and refuses what the call refuses', async () => {
  const { h, client } = await rig();
  try {
    const counted = await client.messages.countTokens({ model: 'claude-converse', tools: [READ_TOOL], messages: conversation() });
    assert.equal(typeof counted.input_tokens, 'number');
    const input = upstreamBody(h).input as { converse: { messages: unknown } };
    assert.deepEqual(input.converse.messages, EXPECTED['us.anthropic.claude-sonnet-4-20250514-v1:0']);
    const error = await client.messages
      .countTokens({
        model: 'claude-converse',
        messages: [{ role: 'user', content: [{ type: 'document', source: { type: 'url', url: 'https://example.com/a.pdf' } }] }],
      })
      .then(
        () => assert.fail('counted a URL document on converse'),
        (e: unknown) => e,
      );
    assert.ok(error instanceof Anthropic.BadRequestError);
    assert.match(error.message, /a document from a URL/);
  } finally {
    await h.close();
  }
});
