/**
 * A tool's input schema as Bedrock takes it (docs/contract.md#request-rules): `type: "object"` at the top for
 * every family (Converse refuses a schema without it), and for Claude no `anyOf` / `oneOf` / `allOf` at the top
 * (folded into one object schema). The schemas below are what zod and TypeBox unions and MCP servers publish.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { toolInputSchema } from '../../src/providers/tool-schema.ts';

function run(schema: Record<string, unknown>, claude: boolean): { out: Record<string, unknown>; notes: string[] } {
  const notes: string[] = [];
  const out = toolInputSchema(schema, claude, 'tool', (message) => notes.push(message));
  return { out, notes };
}

test('tool schema: an object schema is sent as it is, for every family (the same object, nothing noted)', () => {
  const schema = { type: 'object', properties: { path: { type: 'string' } }, required: ['path'] };
  for (const claude of [true, false]) {
    const { out, notes } = run(schema, claude);
    assert.equal(out, schema);
    assert.deepEqual(notes, []);
  }
  // A schema naming another type is Bedrock's to refuse, by name.
  assert.equal(run({ type: 'string' }, true).out.type, 'string');
});

test('tool schema: a schema naming no type gets type object (an empty one too), and the change is noted', () => {
  for (const claude of [true, false]) {
    const { out, notes } = run({}, claude);
    assert.deepEqual(out, { type: 'object' });
    assert.match(notes[0]!, /tool "tool": its schema names no type/);
  }
  const union = { anyOf: [{ type: 'object', properties: { a: { type: 'string' } } }] };
  const { out } = run(union, false);
  assert.deepEqual(out, { type: 'object', ...union }, 'other families take the composition beside type object');
});

test('tool schema: Claude — a top-level oneOf (a zod union) is folded: every property, required what every branch requires', () => {
  const schema = {
    $schema: 'http://json-schema.org/draft-07/schema#',
    description: 'Get a catalog resource by id or by path',
    oneOf: [
      { type: 'object', properties: { id: { type: 'string' }, version: { type: 'string' } }, required: ['id', 'version'] },
      { type: 'object', properties: { full_path: { type: 'string' }, version: { type: 'string' } }, required: ['full_path', 'version'] },
    ],
  };
  const { out, notes } = run(schema, true);
  assert.deepEqual(out, {
    $schema: 'http://json-schema.org/draft-07/schema#',
    description: 'Get a catalog resource by id or by path',
    type: 'object',
    properties: { id: { type: 'string' }, version: { type: 'string' }, full_path: { type: 'string' } },
    required: ['version'],
  });
  assert.match(notes[0]!, /tool "tool": top-level oneOf folded into one object schema/);
  assert.equal(notes.length, 1);
  assert.ok(!('oneOf' in out));
  // The client's schema is not changed, and the same schema folds the same way (a cached prefix stays cached).
  assert.ok(Array.isArray(schema.oneOf));
  assert.equal(JSON.stringify(run(schema, true).out), JSON.stringify(out));
});

test('tool schema: Claude — allOf requires what each part requires; a property two branches describe differently keeps both', () => {
  const schema = {
    type: 'object',
    properties: { mode: { type: 'string' } },
    required: ['mode'],
    allOf: [{ $ref: '#/$defs/Paging' }, { properties: { query: { type: 'string' } }, required: ['query'] }],
    anyOf: [{ properties: { limit: { type: 'integer' } } }, { properties: { limit: { type: 'string', enum: ['all'] } } }],
    $defs: { Paging: { type: 'object', properties: { page: { type: 'integer' } }, required: ['page'] } },
  };
  const { out } = run(schema, true);
  assert.deepEqual(out.properties, {
    mode: { type: 'string' },
    page: { type: 'integer' },
    query: { type: 'string' },
    limit: { anyOf: [{ type: 'integer' }, { type: 'string', enum: ['all'] }] },
  });
  assert.deepEqual(out.required, ['mode', 'page', 'query']);
  assert.ok(!('allOf' in out) && !('anyOf' in out));
  assert.deepEqual(out.$defs, schema.$defs, 'definitions stay for the refs inside properties');
});

test('tool schema: Claude — "at least one of" (branches of required names only) folds to no requirement; a nested union folds too', () => {
  const schema = {
    type: 'object',
    properties: { version: { type: 'string' }, from_version: { type: 'string' } },
    anyOf: [{ required: ['version'] }, { required: ['from_version'] }],
  };
  assert.deepEqual(run(schema, true).out, { type: 'object', properties: schema.properties });
  const nested = {
    anyOf: [
      { oneOf: [{ properties: { a: { type: 'string' } }, required: ['a'] }] },
      { properties: { a: { type: 'string' } }, required: ['a'] },
    ],
  };
  assert.deepEqual(run(nested, true).out, { type: 'object', properties: { a: { type: 'string' } }, required: ['a'] });
});
