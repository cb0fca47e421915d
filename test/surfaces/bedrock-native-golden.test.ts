/**
 * Golden event streams of the native surface (docs/contract.md#bedrock-native): recorded real Bedrock streams
 * through the stages `createPipeline` builds for a native stream (no re-chunker: Bedrock's framing is kept),
 * with the InvokeModelWithResponseStream renderer of Claude (its Messages events in `chunk` frames, from an
 * invoke or a converse upstream) and the ConverseStream renderer. Fed whole, one byte at a time and at seeded
 * random splits, each way must give the same bytes; the golden file is those bytes decoded (both CRCs checked),
 * one frame a line: its headers, then its payload (a chunk's base64 `bytes` decoded). `UPDATE_GOLDENS=1`
 * rewrites the goldens (review the diff). Plus the renderers alone on events no recording has (errors).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Readable, Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { Route } from '../../src/config/schema.ts';
import { SidecarError } from '../../src/errors.ts';
import type { Renderer } from '../../src/pipeline/encoder.ts';
import type { StreamEvent } from '../../src/pipeline/events.ts';
import { createPipeline } from '../../src/pipeline/index.ts';
import { adapterFor } from '../../src/providers/index.ts';
import { ConverseStreamRenderer } from '../../src/surfaces/bedrock-native/converse-render.ts';
import { ClaudeStreamRenderer } from '../../src/surfaces/bedrock-native/invoke-render.ts';
import { expectGolden } from '../helpers/golden.ts';
import { seeded } from '../helpers/streams.ts';
import { decodeFrames } from './bedrock-native-helpers.ts';

const RECORDINGS = join(import.meta.dirname, '../fixtures/real-traffic');
const GOLDENS = join(import.meta.dirname, '../fixtures/bedrock-native');
const META = { id: 'msg_bdrk_golden', created: 1_700_000_000, model: 'claude' };
const LATENCY = (): number => 321;

type Operation = 'invoke-stream' | 'converse-stream';

const CASES: Array<{ recording: string; route: Route; operation: Operation }> = [
  { recording: 'is-anthropic-claude35-sonnet-text', route: 'invoke', operation: 'invoke-stream' },
  { recording: 'is-anthropic-claude35-sonnet-after-tool', route: 'invoke', operation: 'invoke-stream' },
  // Claude on a converse alias, asked through InvokeModelWithResponseStream: signed and redacted thinking.
  { recording: 'cs-anthropic-claude37-redacted-thinking', route: 'converse', operation: 'invoke-stream' },
  { recording: 'cs-anthropic-claude3-sonnet-text-tool', route: 'converse', operation: 'invoke-stream' },
  { recording: 'cs-anthropic-claude3-sonnet-text-tool', route: 'converse', operation: 'converse-stream' },
  { recording: 'cs-nova-micro-tool-use', route: 'converse', operation: 'converse-stream' },
  { recording: 'cs-anthropic-claude37-redacted-thinking', route: 'converse', operation: 'converse-stream' },
];

function renderer(operation: Operation): Renderer {
  return operation === 'invoke-stream' ? new ClaudeStreamRenderer(META, LATENCY) : new ConverseStreamRenderer(LATENCY);
}

async function render(
  bytes: Buffer,
  splits: number[],
  route: Route,
  family: 'anthropic' | 'amazon-nova',
  operation: Operation,
): Promise<Buffer> {
  const pieces: Buffer[] = [];
  let at = 0;
  for (const end of [...splits, bytes.length]) {
    if (end > at) pieces.push(bytes.subarray(at, end));
    at = end;
  }
  const out: Buffer[] = [];
  const { stages } = createPipeline({
    route,
    mapper: adapterFor(route, family)!.createStreamMapper(),
    guard: undefined,
    chunkSizeBytes: 8,
    maxHoldMs: 0,
    rechunk: false,
    renderer: renderer(operation),
    heartbeatMs: 0,
  });
  await pipeline([
    Readable.from(pieces, { objectMode: true }),
    ...stages,
    new Writable({
      write(c: Buffer, _e, cb) {
        out.push(Buffer.from(c));
        cb();
      },
    }),
  ]);
  return Buffer.concat(out);
}

/** The frames as reviewable text: `<:message-type> <:event-type|:exception-type> <payload JSON>`, a chunk's bytes decoded. */
function readable(bytes: Buffer): string {
  return decodeFrames(bytes)
    .map(({ headers, payload }) => {
      const type = headers[':event-type'] ?? headers[':exception-type'];
      const bytesOf = (payload as { bytes?: string }).bytes;
      const shown = type === 'chunk' && bytesOf !== undefined ? Buffer.from(bytesOf, 'base64').toString('utf8') : JSON.stringify(payload);
      assert.equal(headers[':content-type'], 'application/json');
      return `${headers[':message-type']} ${type} ${shown}\n`;
    })
    .join('');
}

for (const c of CASES) {
  test(`native golden ${c.operation}: ${c.recording} whole, byte by byte and at random splits gives the golden frames`, async () => {
    const bytes = readFileSync(join(RECORDINGS, `${c.recording}.eventstream`));
    const family = c.recording.includes('nova') ? 'amazon-nova' : 'anthropic';
    const whole = await render(bytes, [], c.route, family, c.operation);
    expectGolden(join(GOLDENS, `${c.operation}-${c.recording}.txt`), readable(whole));
    const bytewise = await render(
      bytes,
      Array.from({ length: bytes.length - 1 }, (_, i) => i + 1),
      c.route,
      family,
      c.operation,
    );
    assert.ok(bytewise.equals(whole), 'one byte at a time');
    const rand = seeded(0x5eed + bytes.length);
    for (let round = 0; round < 3; round++) {
      const splits = Array.from({ length: 12 }, () => Math.floor(rand() * bytes.length)).sort((a, b) => a - b);
      assert.ok((await render(bytes, splits, c.route, family, c.operation)).equals(whole), `random splits ${splits.join(',')}`);
    }
  });
}

function renderEvents(r: Renderer, batches: ReadonlyArray<readonly StreamEvent[]>): Buffer {
  const parts = [r.start(), ...batches.map((batch) => r.push(batch)), r.end()];
  assert.ok(r.finished);
  assert.equal(r.heartbeat(), '', "Bedrock's event streams have no keep-alive");
  return Buffer.concat(parts.map((p) => (typeof p === 'string' ? Buffer.from(p) : Buffer.from(p))));
}

test('native golden: an error before the finish is one exception frame the operation declares, and the end', () => {
  const blocked: StreamEvent[][] = [
    [
      { kind: 'prompt_usage', usage: { inputTokens: 5, outputTokens: 0, cacheReadTokens: 0, cacheWriteTokens: 0 } },
      { kind: 'text', text: 'Hello' },
    ],
    [{ kind: 'error', error: new SidecarError('guardrail_violation', 'Violated guardrail policy', { guardrail: 'g1' }) }],
    [{ kind: 'text', text: 'never' }],
  ];
  const invoke = readable(renderEvents(new ClaudeStreamRenderer(META, LATENCY), blocked));
  const converse = readable(renderEvents(new ConverseStreamRenderer(LATENCY), blocked));
  expectGolden(join(GOLDENS, 'guardrail-block.txt'), `${invoke}\n${converse}`);
  assert.match(invoke, /^event chunk \{"type":"message_start".*"input_tokens":5,/);
  assert.ok(invoke.endsWith('exception validationException {"message":"Violated guardrail policy","guardrail":"g1"}\n'));
  assert.ok(converse.endsWith('exception validationException {"message":"Violated guardrail policy","guardrail":"g1"}\n'));
  // A timeout is the invoke stream's own exception; ConverseStream declares none, so it is the service's.
  const timeout = [[{ kind: 'error', error: new SidecarError('upstream_timeout', 'the model took too long') }]] satisfies StreamEvent[][];
  assert.ok(
    readable(renderEvents(new ClaudeStreamRenderer(META, LATENCY), timeout)).endsWith(
      'exception modelTimeoutException {"message":"the model took too long"}\n',
    ),
  );
  assert.ok(
    readable(renderEvents(new ConverseStreamRenderer(LATENCY), timeout)).endsWith(
      'exception internalServerException {"message":"the model took too long"}\n',
    ),
  );
  // Input that ends with neither a finish nor an error is a protocol error, after the opening.
  const cut = readable(renderEvents(new ClaudeStreamRenderer(META, LATENCY), [[{ kind: 'text', text: 'Hi' }]]));
  assert.ok(cut.endsWith('exception internalServerException {"message":"stream ended without a finish or an error"}\n'));
});
