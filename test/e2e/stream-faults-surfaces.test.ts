/**
 * "A stream never breaks" on every streaming surface (docs/contract.md#streaming-and-errors): after the commit,
 * an upstream that stalls, whose connection breaks, that ends before the model's final event, that sends a
 * frame with a bad checksum or an error frame, ends each surface in its own in-band error, which the surface's
 * real client raises as a typed error (never a parse error or a hang); the log line says 200 and the failure.
 * A client that leaves mid-stream aborts the upstream request on every surface. Each fault runs on Claude
 * served through invoke and through Converse (two stream shapes into the same five stages).
 * (Chat's own cells, and the drain deadline and guardrail blocks on every surface, are in faults.test.ts,
 * surfaces-contract.test.ts and surfaces-guardrails.test.ts.)
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import OpenAI from 'openai';
import Anthropic from '@anthropic-ai/sdk';
import {
  BedrockRuntimeClient,
  BedrockRuntimeServiceException,
  ConverseStreamCommand,
  InvokeModelWithResponseStreamCommand,
} from '@aws-sdk/client-bedrock-runtime';
import { NodeHttpHandler } from '@smithy/node-http-handler';
import type { Fault } from '../../src/emulator/index.ts';
import { otherCredentials } from '../helpers/credentials.ts';
import { startHarness, type Harness } from '../helpers/harness.ts';
import { waitFor } from '../helpers/sidecar-process.ts';

const MODELS = [
  { name: 'claude-invoke', model: 'bedrock/invoke/us.anthropic.claude-sonnet-4-5-20250929-v1:0', region: 'us-east-1' },
  { name: 'claude-converse', model: 'bedrock/converse/us.anthropic.claude-sonnet-4-5-20250929-v1:0', region: 'us-east-1' },
];
const TEXT = 'an answer long enough to be cut in the middle of its words';

type Surface = 'chat' | 'responses' | 'messages' | 'converse-stream' | 'invoke-with-response-stream';
const SURFACES: readonly Surface[] = ['chat', 'responses', 'messages', 'converse-stream', 'invoke-with-response-stream'];

/** What a surface's client saw: its text before the end, and the error it raised (undefined: none). */
interface Seen {
  text: string;
  error: unknown;
}

function clients(h: Harness): Record<Surface, (model: string, signal?: AbortSignal, onFirst?: () => void) => Promise<Seen>> {
  const openai = new OpenAI({ baseURL: `${h.url}/v1`, apiKey: 'unused', maxRetries: 0 });
  const anthropic = new Anthropic({ baseURL: h.url, apiKey: 'unused', maxRetries: 0 });
  const bedrock = new BedrockRuntimeClient({
    region: 'us-east-1',
    endpoint: h.url,
    credentials: otherCredentials('stream-faults-client'),
    requestHandler: new NodeHttpHandler(),
    maxAttempts: 1,
  });
  const messages = [{ role: 'user' as const, content: 'Hi' }];
  /** Reads `events` to the end, catching what the client raises. */
  const read = async <T>(events: () => Promise<AsyncIterable<T>>, textOf: (event: T) => string, onFirst?: () => void): Promise<Seen> => {
    const seen: Seen = { text: '', error: undefined };
    try {
      for await (const event of await events()) {
        if (seen.text === '' && onFirst) onFirst();
        seen.text += textOf(event);
      }
    } catch (error) {
      seen.error = error;
    }
    return seen;
  };
  return {
    chat: (model, signal, onFirst) =>
      read(
        () => openai.chat.completions.create({ model, stream: true, messages }, { signal }),
        (c) => c.choices[0]?.delta?.content ?? '',
        onFirst,
      ),
    responses: (model, signal, onFirst) =>
      read(
        () => openai.responses.create({ model, stream: true, input: 'Hi' }, { signal }),
        (e) => (e.type === 'response.output_text.delta' ? e.delta : ''),
        onFirst,
      ),
    messages: (model, signal, onFirst) =>
      read(
        async () => anthropic.messages.stream({ model, max_tokens: 200, messages }, { signal }),
        (e) => (e.type === 'content_block_delta' && e.delta.type === 'text_delta' ? e.delta.text : ''),
        onFirst,
      ),
    'converse-stream': (model, signal, onFirst) =>
      read(
        async () =>
          (
            await bedrock.send(new ConverseStreamCommand({ modelId: model, messages: [{ role: 'user', content: [{ text: 'Hi' }] }] }), {
              abortSignal: signal,
            })
          ).stream!,
        (e) => e.contentBlockDelta?.delta?.text ?? '',
        onFirst,
      ),
    'invoke-with-response-stream': (model, signal, onFirst) =>
      read(
        async () =>
          (
            await bedrock.send(
              new InvokeModelWithResponseStreamCommand({
                modelId: model,
                contentType: 'application/json',
                body: JSON.stringify({ anthropic_version: 'bedrock-2023-05-31', max_tokens: 200, messages }),
              }),
              { abortSignal: signal },
            )
          ).body!,
        (e) => {
          const event = e.chunk ? (JSON.parse(Buffer.from(e.chunk.bytes!).toString('utf8')) as Record<string, any>) : undefined;
          return event?.type === 'content_block_delta' && event.delta?.type === 'text_delta' ? (event.delta.text as string) : '';
        },
        onFirst,
      ),
  };
}

/** A fault after the commit, what the sidecar logs for it, and the message its clients see. */
interface FaultCase {
  name: string;
  fault: Fault;
  type: string;
  message: RegExp;
  /** The exception the AWS SDK raises, by operation (each raises only what its stream declares). */
  native: Record<'converse-stream' | 'invoke-with-response-stream', string>;
  /** The sidecar aborted the upstream request (rather than Bedrock ending it). */
  aborted: boolean;
}

const INTERNAL = { 'converse-stream': 'InternalServerException', 'invoke-with-response-stream': 'InternalServerException' };
const FAULTS: readonly FaultCase[] = [
  {
    name: 'an upstream that stalls (idle_timeout_ms)',
    fault: { afterFrames: 3, kind: 'hang' },
    type: 'upstream_timeout',
    message: /Bedrock sent nothing for upstream\.idle_timeout_ms/,
    native: { 'converse-stream': 'InternalServerException', 'invoke-with-response-stream': 'ModelTimeoutException' },
    aborted: true,
  },
  {
    name: 'a connection that breaks',
    fault: { afterFrames: 3, kind: 'reset' },
    type: 'upstream_protocol_error',
    message: /the Bedrock stream broke/,
    native: INTERNAL,
    aborted: false,
  },
  {
    name: "an end before the model's final event",
    fault: { afterFrames: 3, kind: 'end' },
    type: 'upstream_protocol_error',
    message: /Bedrock's stream ended before/,
    native: INTERNAL,
    aborted: false,
  },
  {
    name: 'a frame cut in half',
    fault: { afterFrames: 3, kind: 'truncate' },
    type: 'upstream_protocol_error',
    message: /upstream ended inside an event-stream message/,
    native: INTERNAL,
    aborted: false,
  },
  {
    name: 'a frame with a bad checksum',
    fault: { afterFrames: 3, kind: 'corrupt-crc' },
    type: 'upstream_protocol_error',
    message: /event-stream message checksum mismatch/,
    native: INTERNAL,
    aborted: false,
  },
  {
    name: 'an error frame',
    fault: { afterFrames: 3, kind: 'error-frame', errorCode: 'InternalFailure', errorMessage: 'the model host failed' },
    type: 'upstream_error',
    message: /the model host failed/,
    native: INTERNAL,
    aborted: false,
  },
];

/** The message a surface's client error carries. */
function messageOf(error: unknown): string {
  return error instanceof Error ? `${error.name}: ${error.message}` : JSON.stringify(error);
}

/** Asserts the client raised its own typed error for `c`, on `surface`. */
function assertTypedError(surface: Surface, c: FaultCase, error: unknown, where: string): void {
  assert.ok(error !== undefined, `${where}: the client saw an ordinary end, not the failure`);
  if (surface === 'chat' || surface === 'responses') assert.ok(error instanceof OpenAI.APIError, `${where}: ${messageOf(error)}`);
  else if (surface === 'messages') assert.ok(error instanceof Anthropic.APIError, `${where}: ${messageOf(error)}`);
  else {
    assert.ok(error instanceof BedrockRuntimeServiceException, `${where}: ${messageOf(error)}`);
    assert.equal(error.name, c.native[surface], where);
  }
  assert.match(messageOf(error), c.message, where);
}

test('stream faults: every fault after the commit is each surface’s typed client error, on invoke and on Converse, logged as 200 with the failure', async () => {
  const h = await startHarness({ models: MODELS, upstream: { idle_timeout_ms: 300 } });
  try {
    const run = clients(h);
    for (const c of FAULTS) {
      for (const model of ['claude-invoke', 'claude-converse']) {
        for (const surface of SURFACES) {
          const where = `${c.name}, ${surface} on ${model}`;
          const requests = h.emu.requests.length;
          const lines = h.logs.length;
          h.emu.script({ type: 'text', text: TEXT, deltas: TEXT.split(/(?<= )/), fault: c.fault });
          const seen = await run[surface](model);
          assertTypedError(surface, c, seen.error, where);
          assert.equal(h.emu.requests.length, requests + 1, `${where}: one upstream call, never retried after the commit`);
          const done = await h.emu.requests.at(-1)!.done;
          if (c.aborted) assert.equal(done.clientAborted, true, `${where}: the sidecar aborted the upstream request`);
          await waitFor(() => h.logs.slice(lines).some((l) => l.msg === 'request completed'));
          const line = h.logs.slice(lines).find((l) => l.msg === 'request completed')!;
          assert.equal(line.status, 200, where);
          assert.equal(line.cancelled, false, where);
          assert.equal((line.error as { type: string } | null)?.type, c.type, where);
        }
      }
    }
    const metrics = await (await fetch(`${h.adminUrl}/metrics`)).text();
    for (const surface of ['chat', 'responses', 'messages', 'native']) {
      assert.match(metrics, new RegExp(`sidecar_inflight_streams\\{surface="${surface}"\\} 0\n`), surface);
    }
  } finally {
    await h.close();
  }
});

test('stream faults: a client that leaves mid-stream aborts the upstream request on every surface, and is logged cancelled', async () => {
  const h = await startHarness({ models: MODELS });
  try {
    const run = clients(h);
    for (const model of ['claude-invoke', 'claude-converse']) {
      for (const surface of SURFACES) {
        const where = `${surface} on ${model}`;
        const lines = h.logs.length;
        // 400 frames 10 ms apart: four seconds of stream, which the client leaves after its first text.
        h.emu.script({ type: 'text', text: 'word ', repeat: 400, frameDelayMs: 10 });
        const controller = new AbortController();
        await run[surface](model, controller.signal, () => controller.abort());
        const done = await h.emu.requests.at(-1)!.done;
        assert.equal(done.clientAborted, true, `${where}: the upstream request was aborted`);
        assert.ok(done.framesWritten < 400, `${where}: the upstream stopped early (${done.framesWritten} frames)`);
        await waitFor(() => h.logs.slice(lines).some((l) => l.msg === 'request completed'));
        const line = h.logs.slice(lines).find((l) => l.msg === 'request completed')!;
        assert.equal(line.cancelled, true, where);
      }
    }
    let metrics = '';
    const busy = /sidecar_inflight_streams\{[^}]*\} [1-9]/;
    await waitFor(async () => !busy.test((metrics = await (await fetch(`${h.adminUrl}/metrics`)).text())));
    for (const surface of ['chat', 'responses', 'messages', 'native']) {
      assert.match(metrics, new RegExp(`sidecar_requests_cancelled_total\\{model="claude-invoke",surface="${surface}"\\} [1-9]`), surface);
    }
  } finally {
    await h.close();
  }
});

// As in faults.test.ts: the sidecar's clock stands still until the emulator has had to wait for its socket (the
// buffers between them are full), then runs, so the cut can only come after that backpressure.
let frozenAt: number | undefined = Date.now();
test('stream faults: on the native surface (no re-chunker) a reader that stops pauses the upstream, and is cut after write_timeout_ms', async () => {
  const h = await startHarness({ models: MODELS, server: { write_timeout_ms: 400 } }, { app: { now: () => frozenAt ?? Date.now() } });
  try {
    const piece = 'y'.repeat(1000);
    h.emu.script({ type: 'text', text: piece, deltas: [piece], repeat: 20_000 }); // 20 MB of text
    const res = await fetch(`${h.url}/model/claude-converse/converse-stream`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ messages: [{ role: 'user', content: [{ text: 'Hi' }] }] }),
    });
    assert.equal(res.status, 200);
    await res.body!.getReader().read(); // one read, then none
    await waitFor(() => h.emu.requests[0]!.progress().writesPaused > 0, 20_000);
    frozenAt = undefined;
    const done = await h.emu.requests[0]!.done;
    assert.equal(done.clientAborted, true);
    assert.ok(done.framesWritten < 20_000, `only part of the reply was produced (${done.framesWritten} frames)`);
    await waitFor(() => h.logs.some((l) => l.msg === 'request completed'));
    const line = h.logs.find((l) => l.msg === 'request completed')!;
    assert.equal((line.error as { type: string }).type, 'client_timeout');
    h.emu.script({ type: 'text', text: 'still here' });
    const after = await fetch(`${h.url}/model/claude-converse/converse-stream`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ messages: [{ role: 'user', content: [{ text: 'Hi' }] }] }),
    });
    assert.ok(Buffer.from(await after.arrayBuffer()).includes('still here'));
  } finally {
    await h.close();
  }
});
