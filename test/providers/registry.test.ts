/**
 * The family registry (src/providers/families.ts) is the one list of families: every spec carries what the
 * shared code reads (model ids, provider names, routes, converse traits, embedding models), src/models/
 * knows exactly the registry's families, and no shared file names a family (CONTRIBUTING.md "Add a model
 * family": a family touches its own file, its emulator file and its tests).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { FAMILIES, familyFromProvider, familyOf, inspectModelId, isEmbeddingFamily } from '../../src/models/route.ts';
import { FAMILY_SPECS, type Family } from '../../src/providers/families.ts';
import { adapterFor, routeSupport } from '../../src/providers/index.ts';

/** One real model id per family: a new family adds its row (the test below fails until it does). */
const SAMPLE_IDS: Readonly<Record<Family, string>> = {
  anthropic: 'us.anthropic.claude-sonnet-4-5-20250929-v1:0',
  'amazon-nova': 'amazon.nova-2-lite-v1:0',
  'amazon-titan': 'amazon.titan-text-express-v1',
  meta: 'meta.llama3-2-90b-instruct-v1:0',
  mistral: 'mistral.mistral-large-2407-v1:0',
  cohere: 'cohere.command-r-plus-v1:0',
  ai21: 'ai21.jamba-1-5-mini-v1:0',
  deepseek: 'us.deepseek.r1-v1:0',
  openai: 'openai.gpt-oss-120b-1:0',
  qwen: 'qwen.qwen3-32b-v1:0',
  moonshot: 'moonshot.kimi-k2-thinking',
  minimax: 'minimax.minimax-m2',
  google: 'google.gemma-3-27b-it',
  nvidia: 'nvidia.nemotron-nano-3-30b',
  xai: 'xai.grok-4.7',
  zai: 'zai.glm-5',
  'amazon-titan-embed': 'amazon.titan-embed-text-v2:0',
  'cohere-embed': 'cohere.embed-v4:0',
  'amazon-nova-embed': 'amazon.nova-2-multimodal-embeddings-v1:0',
};

test('registry: src/models knows exactly the registry families, in its order', () => {
  assert.deepEqual(
    [...FAMILIES],
    FAMILY_SPECS.map((spec) => spec.family),
  );
  assert.deepEqual(Object.keys(SAMPLE_IDS).sort(), [...FAMILIES].sort(), 'one sample id per family');
  assert.equal(new Set(FAMILIES).size, FAMILIES.length, 'family names are unique');
});

test('registry: every family is read from its model ids, and no id is claimed by two families', () => {
  for (const spec of FAMILY_SPECS) {
    const info = inspectModelId(SAMPLE_IDS[spec.family]);
    assert.equal(info.family, spec.family, SAMPLE_IDS[spec.family]);
    assert.ok(spec.providers.includes(info.provider ?? ''), `${spec.family}: its providers name "${info.provider}"`);
    const claimants = FAMILY_SPECS.filter((other) => other.modelIds.test(info.baseModelId!.toLowerCase())).map((s) => s.family);
    assert.deepEqual(claimants, [spec.family], `${SAMPLE_IDS[spec.family]} matches one family`);
  }
  assert.equal(familyOf('writer.palmyra-x5-v1:0'), undefined, 'a provider without a family');
});

test('registry: every family answers to its own name and its aliases as provider:, each alias to one family', () => {
  const seen = new Map<string, string>();
  for (const spec of FAMILY_SPECS) {
    for (const name of [spec.family, ...spec.aliases]) {
      assert.equal(familyFromProvider(name), spec.family, name);
      assert.equal(familyFromProvider(name.toUpperCase()), spec.family, `${name} in upper case`);
      assert.equal(seen.get(name), undefined, `"${name}" is claimed by ${seen.get(name)} and ${spec.family}`);
      seen.set(name, spec.family);
    }
  }
});

test('registry: a chat family serves converse from its traits, and invoke where it has its own body', () => {
  for (const spec of FAMILY_SPECS) {
    if (spec.kind !== 'chat') continue;
    const converse = adapterFor('converse', spec.family);
    assert.ok(converse, `${spec.family} on converse`);
    for (const param of ['max_tokens', 'temperature', 'top_p', 'stop', ...spec.converse.extra]) {
      assert.ok(converse.params.has(param as never), `${spec.family} takes ${param} on converse`);
    }
    assert.equal(converse.params.has('tools'), spec.converse.tools, `${spec.family}: tools on converse`);
    assert.equal(converse.params.has('response_format'), spec.converse.structured, `${spec.family}: response_format on converse`);
    assert.deepEqual([...converse.extraFields].sort(), [...spec.converse.extraFields].sort(), `${spec.family}: extra fields on converse`);
    assert.equal(converse.documents !== undefined, spec.converse.documents, `${spec.family}: documents on converse`);
    assert.equal(adapterFor('invoke', spec.family) !== undefined, spec.invoke !== undefined, `${spec.family} on invoke`);
    assert.equal(routeSupport.supports('invoke', spec.family), spec.invoke !== undefined);
    assert.equal(isEmbeddingFamily(spec.family), false);
  }
});

test('registry: an embedding family serves invoke only, with a model for its ids and for an opaque ARN', () => {
  for (const spec of FAMILY_SPECS) {
    if (spec.kind !== 'embedding') continue;
    assert.equal(isEmbeddingFamily(spec.family), true);
    assert.equal(routeSupport.supports('invoke', spec.family), true);
    assert.equal(routeSupport.supports('converse', spec.family), false);
    for (const base of [inspectModelId(SAMPLE_IDS[spec.family]).baseModelId!, '']) {
      const model = spec.model(base);
      assert.ok(model.dimensions.includes(model.defaultDimensions), `${spec.family} (${base || 'opaque ARN'})`);
    }
  }
});

/** Files every family goes through: none of them may name one (a family's knowledge lives in its file). */
function sharedFiles(): string[] {
  const walk = (dir: string): string[] =>
    readdirSync(dir, { withFileTypes: true }).flatMap((e) =>
      e.isDirectory() ? walk(join(dir, e.name)) : e.name.endsWith('.ts') ? [join(dir, e.name)] : [],
    );
  const shared = ['converse.ts', 'index.ts', 'types.ts', 'caching.ts', 'documents.ts', 'policy.ts', 'request.ts', 'families.ts'].map(
    (name) => join('src/providers', name),
  );
  return [...shared, join('src/providers/embeddings/index.ts'), ...walk('src/models'), ...walk('src/surfaces'), ...walk('src/server')];
}

test('registry: no shared file (converse, the rules, models/, surfaces/, server/) names a family in its code', () => {
  const names = FAMILY_SPECS.flatMap((spec) => [spec.family, ...spec.aliases]);
  const literal = new RegExp(`(['"\`])(${names.map((n) => n.replace(/[.-]/g, '\\$&')).join('|')})\\1`);
  for (const file of sharedFiles()) {
    const code = readFileSync(file, 'utf8').replace(/\/\*[\s\S]*?\*\/|\/\/.*$/gm, '');
    const found = literal.exec(code);
    assert.equal(found, null, `${file} names the family ${found?.[0]}: move what it knows into the family's spec`);
  }
});
