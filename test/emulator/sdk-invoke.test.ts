// The real AWS SDK (HTTP/1.1 handler) as the client: InvokeModel and InvokeModelWithResponseStream
// against the emulator, decoded by the SDK's own event-stream decoder; this also proves the emulator's
// SigV4 verifier accepts real SDK signatures and rejects a wrong secret.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  InvokeModelCommand,
  InvokeModelWithResponseStreamCommand,
  ThrottlingException,
  ModelStreamErrorException,
} from '@aws-sdk/client-bedrock-runtime';
import { defaultReplyText } from '../../src/emulator/index.ts';
import { CLAUDE, claudeBody, sdkClient } from './helpers.ts';
import { withEmulator } from '../helpers/emulator.ts';

const decoder = new TextDecoder();

async function collectStream(client: ReturnType<typeof sdkClient>, body: unknown, modelId = CLAUDE) {
  const out = await client.send(
    new InvokeModelWithResponseStreamCommand({
      modelId,
      contentType: 'application/json',
      accept: 'application/json',
      body: JSON.stringify(body),
    }),
  );
  const events: Record<string, unknown>[] = [];
  for await (const part of out.body ?? []) {
    if (part.chunk?.bytes) events.push(JSON.parse(decoder.decode(part.chunk.bytes)) as Record<string, unknown>);
  }
  return { out, events };
}

test('sdk: InvokeModelWithResponseStream streams the default Claude reply, decoded by the SDK', async () => {
  await withEmulator(async (emu) => {
    const client = sdkClient(emu.url);
    const { out, events } = await collectStream(client, claudeBody('ping — ☃'));
    assert.equal(out.contentType, 'application/json');
    assert.ok(out.$metadata.requestId);
    const types = events.map((e) => e.type);
    assert.equal(types[0], 'message_start');
    assert.equal(types.at(-1), 'message_stop');
    assert.deepEqual(types.slice(-2), ['message_delta', 'message_stop']);
    const text = events
      .filter((e) => e.type === 'content_block_delta')
      .map((e) => (e.delta as { text: string }).text)
      .join('');
    assert.equal(text, defaultReplyText('ping — ☃'));
    const metrics = events.at(-1)!['amazon-bedrock-invocationMetrics'] as Record<string, number>;
    assert.equal(typeof metrics.inputTokenCount, 'number');
    assert.equal(typeof metrics.outputTokenCount, 'number');
    assert.equal(typeof metrics.invocationLatency, 'number');
    assert.equal(typeof metrics.firstByteLatency, 'number');
    const rec = emu.requests[0]!;
    assert.equal(rec.signature, 'valid');
    assert.equal(rec.operation, 'InvokeModelWithResponseStream');
    assert.equal(rec.modelId, CLAUDE);
    assert.equal(rec.rawPath, '/model/anthropic.claude-3-haiku-20240307-v1%3A0/invoke-with-response-stream');
    const done = await rec.done;
    assert.equal(done.clientAborted, false);
    assert.equal(done.framesWritten, events.length);
  });
});

test('sdk: InvokeModel returns the scripted text, usage and token-count headers', async () => {
  await withEmulator(async (emu) => {
    emu.script({ type: 'text', text: 'Bonjour 🌍', usage: { inputTokens: 7, outputTokens: 3, cacheReadTokens: 2 } });
    const client = sdkClient(emu.url);
    const out = await client.send(
      new InvokeModelCommand({ modelId: `us.${CLAUDE}`, contentType: 'application/json', body: JSON.stringify(claudeBody()) }),
    );
    const msg = JSON.parse(decoder.decode(out.body)) as Record<string, unknown>;
    assert.equal(msg.type, 'message');
    assert.equal(msg.role, 'assistant');
    assert.deepEqual(msg.content, [{ type: 'text', text: 'Bonjour 🌍' }]);
    assert.equal(msg.stop_reason, 'end_turn');
    // Current Claude models always report cache counts, and cache writes by TTL (iv-anthropic-claude-haiku45-cache).
    assert.deepEqual(msg.usage, {
      input_tokens: 7,
      cache_creation: { ephemeral_5m_input_tokens: 0, ephemeral_1h_input_tokens: 0 },
      cache_creation_input_tokens: 0,
      cache_read_input_tokens: 2,
      output_tokens: 3,
    });
    assert.match(String(msg.id), /^msg_bdrk_/);
    assert.equal(emu.requests[0]!.signature, 'valid');
  });
});

test('sdk: tool_use and thinking stream in Anthropic shape', async () => {
  await withEmulator(async (emu) => {
    emu.script({
      type: 'tool_use',
      text: 'Let me check.',
      reasoning: 'Need weather',
      calls: [{ id: 'toolu_1', name: 'get_weather', input: { city: 'Paris' } }],
    });
    const { events } = await collectStream(sdkClient(emu.url), claudeBody('weather?'));
    const starts = events.filter((e) => e.type === 'content_block_start').map((e) => e.content_block as Record<string, unknown>);
    assert.deepEqual(
      starts.map((b) => b.type),
      ['thinking', 'text', 'tool_use'],
    );
    assert.deepEqual(starts[2], { type: 'tool_use', id: 'toolu_1', name: 'get_weather', input: {} });
    const json = events
      .filter((e) => e.type === 'content_block_delta' && (e.delta as { type: string }).type === 'input_json_delta')
      .map((e) => (e.delta as { partial_json: string }).partial_json)
      .join('');
    assert.deepEqual(JSON.parse(json), { city: 'Paris' });
    assert.ok(events.some((e) => e.type === 'content_block_delta' && (e.delta as { type: string }).type === 'signature_delta'));
    const delta = events.find((e) => e.type === 'message_delta')!;
    assert.equal((delta.delta as { stop_reason: string }).stop_reason, 'tool_use');
  });
});

test('sdk: a wrong secret is rejected with InvalidSignatureException', async () => {
  await withEmulator(async (emu) => {
    const client = sdkClient(emu.url, 'not-the-secret');
    await assert.rejects(
      client.send(new InvokeModelCommand({ modelId: CLAUDE, body: JSON.stringify(claudeBody()) })),
      (err: Error & { $metadata?: { httpStatusCode?: number } }) => {
        assert.equal(err.name, 'InvalidSignatureException');
        assert.equal(
          err.message,
          'The request signature we calculated does not match the signature you provided. Check your AWS Secret Access Key and signing method. Consult the service documentation for details.',
        );
        assert.equal(err.$metadata?.httpStatusCode, 403);
        return true;
      },
    );
    assert.equal(emu.requests[0]!.signature, 'invalid');
    assert.equal(emu.requests[0]!.status, 403);
  });
});

test('sdk: an unknown body key gives the exact Anthropic ValidationException message', async () => {
  await withEmulator(async (emu) => {
    await assert.rejects(
      sdkClient(emu.url).send(
        new InvokeModelCommand({ modelId: CLAUDE, body: JSON.stringify(claudeBody('hi', { stream_chunk_size: 5 })) }),
      ),
      (err: Error) => {
        assert.equal(err.name, 'ValidationException');
        assert.equal(err.message, 'stream_chunk_size: Extra inputs are not permitted');
        return true;
      },
    );
  });
});

test('sdk: an exception frame mid-stream makes the SDK throw the modeled exception', async () => {
  await withEmulator(async (emu) => {
    emu.script(
      {
        type: 'text',
        text: 'abcdefghijklmnopqrstuvwxyz'.repeat(4),
        fault: { afterFrames: 3, kind: 'exception', exceptionType: 'throttlingException' },
      },
      {
        type: 'text',
        text: 'x',
        fault: {
          afterFrames: 1,
          kind: 'exception',
          exceptionType: 'modelStreamErrorException',
          originalStatusCode: 500,
          originalMessage: 'boom',
        },
      },
    );
    const client = sdkClient(emu.url);
    const seen: unknown[] = [];
    await assert.rejects(
      (async () => {
        const out = await client.send(new InvokeModelWithResponseStreamCommand({ modelId: CLAUDE, body: JSON.stringify(claudeBody()) }));
        for await (const part of out.body ?? []) seen.push(part);
      })(),
      (err: Error) => err instanceof ThrottlingException && err.message === 'Too many requests, please wait before trying again.',
    );
    assert.equal(seen.length, 3);
    await assert.rejects(
      (async () => {
        const out = await client.send(new InvokeModelWithResponseStreamCommand({ modelId: CLAUDE, body: JSON.stringify(claudeBody()) }));
        for await (const _ of out.body ?? []) {
          /* drain */
        }
      })(),
      (err: Error) => err instanceof ModelStreamErrorException && err.originalStatusCode === 500 && err.originalMessage === 'boom',
    );
  });
});

test('sdk: a scripted HTTP error before the stream surfaces as the modeled exception', async () => {
  await withEmulator(async (emu) => {
    emu.script({ type: 'error', status: 429, errorType: 'ThrottlingException', message: 'slow down' });
    await assert.rejects(
      sdkClient(emu.url).send(new InvokeModelWithResponseStreamCommand({ modelId: CLAUDE, body: JSON.stringify(claudeBody()) })),
      (err: Error & { $metadata?: { httpStatusCode?: number; requestId?: string } }) =>
        err instanceof ThrottlingException &&
        err.message === 'slow down' &&
        err.$metadata?.httpStatusCode === 429 &&
        Boolean(err.$metadata.requestId),
    );
  });
});
