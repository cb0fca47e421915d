import { test } from 'node:test';
import assert from 'node:assert/strict';
import { forgetSecrets, rememberSecret, scrubKnownSecrets } from '../../src/ops/secrets.ts';

const TOKEN = 'IQoJb3JpZ2luX2VjEJr//////////wEaCXVzLWVhc3QtMSJHMEUCIQDx9k+Q/z==';

test('secrets: every known value goes, raw, percent-encoded, or cut at either end of the text', () => {
  forgetSecrets();
  rememberSecret('aws.sessionToken', TOKEN);
  assert.equal(scrubKnownSecrets(`a ${TOKEN} b ${TOKEN}`), 'a [redacted] b [redacted]');
  assert.equal(scrubKnownSecrets(`q=${encodeURIComponent(TOKEN)}&x`), 'q=[redacted]&x');
  assert.equal(scrubKnownSecrets(`token: ${TOKEN.slice(0, 30)}`), 'token: [redacted]');
  assert.equal(scrubKnownSecrets(`${TOKEN.slice(-30)} was the end`), '[redacted] was the end');
  assert.equal(scrubKnownSecrets('nothing secret here'), 'nothing secret here');
  forgetSecrets();
});

test('secrets: a rotated value is still scrubbed, the one before it is forgotten; short values are not looked for', () => {
  forgetSecrets();
  rememberSecret('auth_token', 'first-token-value');
  rememberSecret('auth_token', 'second-token-value');
  assert.equal(scrubKnownSecrets('first-token-value second-token-value'), '[redacted] [redacted]');
  rememberSecret('auth_token', 'third-token-value');
  assert.equal(scrubKnownSecrets('first-token-value'), 'first-token-value');
  rememberSecret('short', 'abc');
  assert.equal(scrubKnownSecrets('abc'), 'abc');
  forgetSecrets();
});
