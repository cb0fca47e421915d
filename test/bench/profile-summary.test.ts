/**
 * The bench's profile summary for allocations (BENCH_PROFILE_HEAP=1): bytes per request by function, by file and
 * inclusive of callees for the sidecar's own code, from a sampling heap profile the bench noted a request count in.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { pathToFileURL } from 'node:url';
import { noteRequests, summarise } from '../../bench/lib/profile-summary.ts';

/** Where the bench's compiled sidecar runs from, as V8 names its scripts. */
const built = (path: string): string => pathToFileURL(join(import.meta.dirname, '..', '..', 'bench', '.build', path)).href;
const frame = (functionName: string, url: string, lineNumber = 0) => ({ functionName, url, lineNumber, scriptId: '0', columnNumber: 0 });

/** (root) → serve (src/server/model-call.js, 100 B) → parse (src/pipeline/normalizer.js, 300 B) and eos (node, 200 B). */
const profile = {
  head: {
    callFrame: frame('(root)', ''),
    selfSize: 0,
    children: [
      {
        callFrame: frame('serve', built('src/server/model-call.js'), 70),
        selfSize: 100,
        children: [
          { callFrame: frame('parse', built('src/pipeline/normalizer.js'), 21), selfSize: 300, children: [] },
          { callFrame: frame('eos', 'node:internal/streams/end-of-stream', 54), selfSize: 200, children: [] },
        ],
      },
    ],
  },
  samples: [],
};

test('a heap profile is summarised per request once the bench has noted how many it covers', () => {
  const dir = mkdtempSync(join(tmpdir(), 'heap-summary-'));
  try {
    const file = join(dir, 'sidecar-c16.heapprofile');
    writeFileSync(file, JSON.stringify(profile));
    assert.match(summarise(file), /^total 600 bytes\n/);

    noteRequests(file, 4);
    assert.equal((JSON.parse(readFileSync(file, 'utf8')) as { requests: number }).requests, 4);
    const lines = summarise(file).split('\n');
    assert.equal(lines[0], 'total 150 bytes per request (4 requests)');
    const byFunction = lines.slice(lines.indexOf('-- allocated by function (bytes per request) --') + 1, lines.indexOf('-- by file --'));
    assert.deepEqual(
      byFunction.map((l) => l.trim().split(/\s+/).slice(0, 3)),
      [
        ['75', '50.0%', 'parse'],
        ['50', '33.3%', 'eos'],
        ['25', '16.7%', 'serve'],
      ],
    );
    const inclusive = lines.slice(lines.indexOf("-- inclusive, the sidecar's own functions --") + 1);
    assert.match(inclusive[0]!, /^\s+150 100\.0% {2}serve src\/server\/model-call\.js:71$/);
    assert.ok(!inclusive.some((l) => l.includes('eos')), 'Node frames are not listed among the sidecar’s own');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('a CPU profile is left as it is by noteRequests', () => {
  const dir = mkdtempSync(join(tmpdir(), 'heap-summary-'));
  try {
    const file = join(dir, 'sidecar-c16.cpuprofile');
    writeFileSync(file, '{"nodes":[],"samples":[],"timeDeltas":[],"startTime":0,"endTime":0}');
    noteRequests(file, 4);
    assert.equal(readFileSync(file, 'utf8'), '{"nodes":[],"samples":[],"timeDeltas":[],"startTime":0,"endTime":0}');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
