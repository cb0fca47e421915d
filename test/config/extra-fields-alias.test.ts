/**
 * An alias's `additional_model_request_fields` key that the family takes but the model does not
 * (docs/contract.md#configuration): `top_k` on Mistral's chat models (Large 2407, Pixtral …), whose body has
 * none, on either route. Bedrock would refuse every request through such an alias, so the config is refused
 * when it loads, and when it is reloaded (the running config stays), naming the key, its line and the alias.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseConfig } from '../../src/config/load.ts';
import { ModelRegistry } from '../../src/models/resolve.ts';
import { routeSupport } from '../../src/providers/index.ts';
import { startHarness } from '../helpers/harness.ts';

function load(yaml: string): ModelRegistry {
  return new ModelRegistry(parseConfig(yaml, 'sidecar.yaml'), { AWS_REGION: 'us-east-1' }, routeSupport);
}

/** One alias of sidecar.yaml, with `additional_model_request_fields: {top_k: 20}` unless `topK` is false. */
function alias(name: string, model: string, topK = true): string {
  return `  - name: ${name}\n    model: ${model}\n${topK ? '    additional_model_request_fields: {top_k: 20}\n' : ''}`;
}

const REFUSED: Array<[string, RegExp]> = [
  [
    'bedrock/converse/mistral.mistral-large-2407-v1:0',
    /^sidecar\.yaml:6: models\[1\]\.additional_model_request_fields\.top_k: alias "tuned": Mistral's chat models take no top_k \(mistral\.mistral-large-2407-v1:0 on the converse route\), so Bedrock would refuse every request through it$/,
  ],
  [
    'bedrock/converse/us.mistral.pixtral-large-2502-v1:0',
    /models\[1\]\.additional_model_request_fields\.top_k: alias "tuned": Mistral's chat models take no top_k/,
  ],
  [
    'bedrock/invoke/mistral.mistral-large-2407-v1:0',
    /models\[1\]\.additional_model_request_fields\.top_k: alias "tuned": Mistral's chat-completion body has no top_k \(mistral\.mistral-large-2407-v1:0 on the invoke route\)/,
  ],
];

for (const [model, message] of REFUSED) {
  test(`config: additional_model_request_fields top_k on ${model} is a config error naming the key, its line and the alias`, () => {
    assert.throws(
      () => load(`models:\n${alias('plain', 'bedrock/converse/amazon.nova-micro-v1:0', false)}${alias('tuned', model)}`),
      (error: Error) => {
        assert.equal(error.name, 'ConfigError');
        assert.match(error.message, message);
        return true;
      },
    );
  });
}

test('config: additional_model_request_fields top_k still loads for the Mistral models that take it (7B, Mixtral)', () => {
  const registry = load(
    `models:\n${alias('small', 'bedrock/converse/mistral.mistral-7b-instruct-v0:2')}${alias('mixtral', 'bedrock/invoke/mistral.mixtral-8x7b-instruct-v0:1')}`,
  );
  assert.deepEqual(registry.resolve('small').alias?.additionalModelRequestFields, { top_k: 20 });
  assert.deepEqual(registry.resolve('mixtral').alias?.additionalModelRequestFields, { top_k: 20 });
});

test('config: a reload adding top_k to a Mistral chat alias is refused, and the running config keeps serving', async () => {
  const large = { name: 'large', model: 'bedrock/converse/mistral.mistral-large-2407-v1:0', region: 'us-east-1' };
  const h = await startHarness({ models: [large] });
  try {
    const bad = `models:\n${alias('large', large.model)}    region: us-east-1\n`;
    assert.throws(
      () => h.app.reload(parseConfig(bad, 'sidecar.yaml')),
      /models\[0\]\.additional_model_request_fields\.top_k: alias "large": Mistral's chat models take no top_k/,
    );
    h.emu.script({ type: 'text', text: 'still here' });
    const res = await fetch(`${h.url}/v1/chat/completions`, {
      method: 'POST',
      body: JSON.stringify({ model: 'large', messages: [{ role: 'user', content: 'hi' }] }),
    });
    assert.equal(res.status, 200, await res.clone().text());
    const sent = JSON.parse(h.emu.requests.at(-1)!.body.toString('utf8')) as Record<string, unknown>;
    assert.equal(sent.additionalModelRequestFields, undefined, 'the old alias, without top_k');
  } finally {
    await h.close();
  }
});
