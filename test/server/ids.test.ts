import { test } from 'node:test';
import assert from 'node:assert/strict';
import { randomHex } from '../../src/server/ids.ts';

test('randomHex: lowercase hex of the asked length, never repeated across pool refills', () => {
  const seen = new Set<string>();
  // 2,000 × 12 bytes is ~6 refills of the 4 KiB pool; 16-byte ids cross its end at other offsets.
  for (let i = 0; i < 2_000; i++) {
    const id = randomHex(i % 3 === 0 ? 16 : 12);
    assert.match(id, i % 3 === 0 ? /^[0-9a-f]{32}$/ : /^[0-9a-f]{24}$/);
    assert.equal(seen.has(id), false, `id ${id} came twice`);
    seen.add(id);
  }
  assert.equal(randomHex(4096).length, 8192);
  assert.throws(() => randomHex(0), /randomHex: 0 bytes/);
  assert.throws(() => randomHex(4097), /randomHex: 4097 bytes/);
});
