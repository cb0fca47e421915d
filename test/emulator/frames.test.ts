// Frame encoding against the worked frames of docs/bedrock-wire.md (#worked-frame-a-chunk-event,
// #worked-frame-an-exception), and the deliberate corruptions.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { chunkPayload, corruptMessageCrc, corruptPreludeCrc, eventFrame, exceptionFrame } from '../../src/emulator/frames.ts';
import { decodeFrames } from './helpers.ts';

test('frames: a chunk event matches the §3.5 worked example byte for byte', () => {
  const payload = chunkPayload('{"type":"message_stop"}', '');
  assert.equal(payload, '{"bytes":"eyJ0eXBlIjoibWVzc2FnZV9zdG9wIn0="}');
  assert.equal(
    eventFrame('chunk', payload).toString('base64'),
    'AAAAhwAAAEuH6ivzCzpldmVudC10eXBlBwAFY2h1bmsNOmNvbnRlbnQtdHlwZQcAEGFwcGxpY2F0aW9uL2pzb24NOm1lc3NhZ2UtdHlwZQcABWV2ZW50eyJieXRlcyI6ImV5SjBlWEJsSWpvaWJXVnpjMkZuWlY5emRHOXdJbjA9In26SKsi',
  );
});

test('frames: a throttling exception matches the §3.6 worked example byte for byte', () => {
  assert.equal(
    exceptionFrame('throttlingException', '{"message":"Too many requests, please wait before trying again."}').toString('base64'),
    'AAAAsgAAAGE1kNXTDzpleGNlcHRpb24tdHlwZQcAE3Rocm90dGxpbmdFeGNlcHRpb24NOmNvbnRlbnQtdHlwZQcAEGFwcGxpY2F0aW9uL2pzb24NOm1lc3NhZ2UtdHlwZQcACWV4Y2VwdGlvbnsibWVzc2FnZSI6IlRvbyBtYW55IHJlcXVlc3RzLCBwbGVhc2Ugd2FpdCBiZWZvcmUgdHJ5aW5nIGFnYWluLiJ96P+yag==',
  );
});

test('frames: corrupted CRCs are rejected by a strict decoder, the intact frame is not', () => {
  const frame = eventFrame('chunk', chunkPayload('{"a":1}', 'abc'));
  assert.equal(decodeFrames(frame).length, 1);
  assert.throws(() => decodeFrames(corruptMessageCrc(frame)), /checksum/i);
  assert.throws(() => decodeFrames(corruptPreludeCrc(frame)), /checksum/i);
});
