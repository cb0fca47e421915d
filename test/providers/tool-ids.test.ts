// Tool-call ids a route cannot carry (src/providers/tool-ids.ts): replaced in calls and results alike, by an alias
// derived from the id alone, the same on every request; valid ids kept; two ids whose aliases meet told apart.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { aliasToolIds, BEDROCK_TOOL_IDS, CLAUDE_TOOL_IDS, MISTRAL_TOOL_IDS, type ToolIdRule } from '../../src/providers/tool-ids.ts';
import type { ChatMessage, ChatRequest } from '../../src/providers/request.ts';

function request(...ids: string[]): ChatRequest {
  const messages: ChatMessage[] = [{ role: 'user', content: [{ type: 'text', text: 'go' }] }];
  for (const id of ids) {
    messages.push({ role: 'assistant', content: [], toolCalls: [{ id, name: 'f', arguments: '{}' }] });
    messages.push({ role: 'tool', toolCallId: id, content: [{ type: 'text', text: 'done' }] });
  }
  return { model: 'm', stream: false, messages, params: {}, sidecar: { streamChunkSize: undefined, guardrails: [], includeUsage: false } };
}

/** The ids sent, call then result, per tool call. */
function sentIds(r: ChatRequest): Array<[string, string]> {
  const out: Array<[string, string]> = [];
  r.messages.forEach((m, i) => {
    const result = r.messages[i + 1];
    if (m.role === 'assistant' && result?.role === 'tool') out.push([m.toolCalls[0]!.id, result.toolCallId]);
  });
  return out;
}

test('tool ids: Mistral gets 9 alphanumerics for every other id, call and result alike, the same on every request', () => {
  const ids = ['call_1', 'toolu_01A09q90qw90lq917835lq9', 'a', 'tooluse_abc', 'functions.Bash:0', ''];
  const aliased = aliasToolIds(request(...ids, 'aB3dE6gH9'), MISTRAL_TOOL_IDS)!;
  const sent = sentIds(aliased.request);
  for (const [call, result] of sent) {
    assert.match(call, /^[a-zA-Z0-9]{9}$/);
    assert.equal(result, call);
  }
  assert.equal(new Set(sent.map(([call]) => call)).size, ids.length + 1, 'different ids, different aliases');
  assert.equal(sent.at(-1)![0], 'aB3dE6gH9', 'a valid id goes as it is');
  assert.equal(aliased.aliases.get('call_1'), 'bU09E4FDZ', 'derived from the id alone');
  // A later request (the conversation grown by one call) sends the earlier ids the same way.
  const later = aliasToolIds(request(...ids, 'aB3dE6gH9', 'call_2'), MISTRAL_TOOL_IDS)!;
  assert.deepEqual(sentIds(later.request).slice(0, -1), sent);
  assert.equal(aliasToolIds(request('aB3dE6gH9', 'xY1xY1xY1'), MISTRAL_TOOL_IDS), undefined, 'nothing copied when every id is valid');
});

test("tool ids: an alias that meets another id of the request is replaced by the id's next one", () => {
  // `bU09E4FDZ` is call_1's alias, and here also an id the client sent (valid: kept).
  const aliased = aliasToolIds(request('bU09E4FDZ', 'call_1'), MISTRAL_TOOL_IDS)!;
  const [kept, other] = sentIds(aliased.request).map(([call]) => call);
  assert.equal(kept, 'bU09E4FDZ');
  assert.match(other!, /^[a-zA-Z0-9]{9}$/);
  assert.notEqual(other, 'bU09E4FDZ');
  // Two refused ids whose first aliases meet (a rule made to clash): the later takes its next attempt.
  const clashing: ToolIdRule = { valid: /^ok\d*$/, alias: (_id, attempt) => `ok${attempt}` };
  const both = aliasToolIds(request('x', 'y'), clashing)!;
  assert.deepEqual(sentIds(both.request), [
    ['ok0', 'ok0'],
    ['ok1', 'ok1'],
  ]);
});

test('tool ids: Converse and Claude keep what they can of an id they refuse, cut to 64, ending in 8 hex of its SHA-256', () => {
  const gemini = `d556q31u_ts_${'A'.repeat(80)}`;
  const ids = ['functions.Bash:0', 'call_65OReGAIB0M4612fiyF6YMbI|fc_0feebbbc39e113d4016969ff3539208191914ede46e71d5d06', gemini];
  const converse = aliasToolIds(request(...ids, 'toolu_01A09q90qw90lq917835lq9'), BEDROCK_TOOL_IDS)!;
  const sent = sentIds(converse.request).map(([call]) => call);
  assert.match(sent[0]!, /^functions_Bash_0_[0-9a-f]{8}$/);
  assert.match(sent[1]!, /^call_65OReGAIB0M4612fiyF6YMbI_fc_0feebbbc39e113d4016969_[0-9a-f]{8}$/);
  assert.equal(sent[1]!.length, 64);
  assert.match(sent[2]!, /^d556q31u_ts_A+_[0-9a-f]{8}$/);
  assert.equal(sent[3], 'toolu_01A09q90qw90lq917835lq9');
  // Claude takes any length: the long Gemini id goes as it is there, Kimi's is folded the same way.
  const claude = aliasToolIds(request(...ids), CLAUDE_TOOL_IDS)!;
  assert.equal(sentIds(claude.request)[0]![0], sent[0]);
  assert.equal(sentIds(claude.request)[2]![0], gemini);
});
