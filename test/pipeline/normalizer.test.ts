/**
 * The normaliser's reading of event-stream messages: exceptions by message type or event name map to the
 * error vocabulary of docs/contract.md#streaming-and-errors, names that happen to be Object.prototype members are plain
 * names (not table hits), and a converse event reaches the mapper as `{ [eventType]: payload }`.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { Message } from '@smithy/core/event-streams';
import { BedrockEventNormalizer } from '../../src/pipeline/normalizer.ts';
import type { StreamEvent } from '../../src/pipeline/events.ts';
import type { StreamMapper } from '../../src/providers/types.ts';

function message(headers: Record<string, string>, body: unknown): Message {
  return {
    headers: Object.fromEntries(Object.entries(headers).map(([k, v]) => [k, { type: 'string' as const, value: v }])),
    body: Buffer.from(JSON.stringify(body)),
  };
}

function recordingMapper(): StreamMapper & { seen: Array<Record<string, unknown>> } {
  const seen: Array<Record<string, unknown>> = [];
  return { seen, terminated: false, push: (event) => (seen.push(event), [{ kind: 'text', text: 'x' }]) };
}

function errorOf(events: StreamEvent[]): { type: string; message: string } {
  const last = events.at(-1);
  assert.equal(last?.kind, 'error');
  return last.error;
}

test('normaliser: an exception message maps its name to the documented type; an unknown name is upstream_error', () => {
  const throttled = new BedrockEventNormalizer('converse', recordingMapper()).push([
    message({ ':message-type': 'exception', ':exception-type': 'throttlingException' }, { message: 'slow down' }),
  ]);
  assert.equal(errorOf(throttled).type, 'rate_limit_error');
  assert.match(errorOf(throttled).message, /throttlingException: slow down/);
  for (const name of ['constructor', 'toString', '__proto__', 'somethingNewException']) {
    const events = new BedrockEventNormalizer('converse', recordingMapper()).push([
      message({ ':message-type': 'exception', ':exception-type': name }, {}),
    ]);
    assert.equal(errorOf(events).type, 'upstream_error', name);
  }
});

test('normaliser: an event named like an Object.prototype member is an ordinary event, keyed by its name', () => {
  for (const name of ['toString', 'constructor', 'hasOwnProperty', 'contentBlockDelta']) {
    const mapper = recordingMapper();
    const events = new BedrockEventNormalizer('converse', mapper).push([
      message({ ':message-type': 'event', ':event-type': name }, { a: 1 }),
    ]);
    assert.deepEqual(events, [{ kind: 'text', text: 'x' }], name);
    assert.deepEqual(mapper.seen, [{ [name]: { a: 1 } }], name);
    assert.ok(Object.hasOwn(mapper.seen[0]!, name), `${name} is an own property`);
  }
  // An event named like an exception is one, by name (bedrock-wire: exceptions may come as events).
  const events = new BedrockEventNormalizer('converse', recordingMapper()).push([
    message({ ':message-type': 'event', ':event-type': 'validationException' }, { message: 'bad' }),
  ]);
  assert.equal(errorOf(events).type, 'invalid_request_error');
});
