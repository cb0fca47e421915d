/**
 * What each part of the sidecar's design costs per request, found by taking it out: variants of the
 * compiled sidecar (bench/.build), each with one part removed by an edit of its JavaScript, for `bench/ab.ts
 * --ablate`. None of them is a sidecar one could ship (no request log, no metrics, unsigned requests, or
 * streams joined without `stream.pipeline`'s error handling and teardown); they answer "how far would
 * dropping this go", which no profile of a flat per-request cost answers. An edit whose text is no longer
 * in the compiled code fails loudly: update it with the code.
 */
import { cpSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

interface Edit {
  file: string;
  find: string;
  replace: string;
}

export interface Ablation {
  name: string;
  what: string;
  edits: Edit[];
}

const MODEL_CALL = 'src/server/model-call.js';
const STREAM_RESPONSE = 'src/server/stream-response.js';

const noLog: Edit[] = [
  { file: MODEL_CALL, find: '    log.info({\n        surface,', replace: '    if (false) log.info({\n        surface,' },
];

const noMetrics: Edit[] = [
  ['ctx.metrics.ttft.observe(', 'void ('],
  ['ctx.metrics.chunks.inc(', 'void ('],
  ['ctx.metrics.requests.inc(', 'void ('],
  ['ctx.metrics.duration.observe(', 'void ('],
  ["ctx.metrics.tokens.inc({ direction: 'input'", "void ({ direction: 'input'"],
  ["ctx.metrics.tokens.inc({ direction: 'output'", "void ({ direction: 'output'"],
].map(([find, replace]) => ({ file: MODEL_CALL, find: find!, replace: replace! }));

const noSigning: Edit[] = [
  {
    file: 'src/upstream/client.js',
    find: ": await this.options.signer.sign({ method: 'POST', url, headers: base, body: call.body, bodySha256: call.bodySha256 }, call.region);",
    replace: ": { ...base, host: url.host, authorization: 'AWS4-HMAC-SHA256 unsigned', 'x-amz-date': '20260101T000000Z' };",
  },
];

/** The stages and the response joined by `.pipe()`, the callback called on the response's finish or close. */
const noPipeline: Edit[] = [
  {
    file: STREAM_RESPONSE,
    find: '        pipeline([...stages, res], (error) => {',
    replace: '        const piped = (error) => {',
  },
  {
    file: STREAM_RESPONSE,
    find: '            resolve({ error: streamError, clientClosed });\n        });',
    replace: [
      '            resolve({ error: streamError, clientClosed });',
      '        };',
      '        const all = [...stages, res];',
      '        for (let i = 0; i < all.length - 1; i++) all[i].pipe(all[i + 1]);',
      '        let ended = false;',
      "        res.once('finish', () => { if (!ended) { ended = true; piped(); } });",
      "        res.once('close', () => { if (!ended) { ended = true; piped(res.writableFinished ? undefined : new Error('closed')); } });",
    ].join('\n'),
  },
];

export const ABLATIONS: Ablation[] = [
  // An A/A control: two identical builds, measured in the same turns, read as far apart as the run's noise, so a
  // part whose removal reads closer to the current tree than the control does has not been shown to cost anything.
  { name: 'control', what: 'an unchanged copy (two identical builds: the noise)', edits: [] },
  { name: 'no-log', what: 'without the request log line', edits: noLog },
  { name: 'no-metrics', what: 'without the per-request metric updates', edits: noMetrics },
  { name: 'no-sigv4', what: 'without SigV4 signing', edits: noSigning },
  { name: 'no-pipeline', what: 'stages joined by .pipe() instead of stream.pipeline', edits: noPipeline },
  { name: 'none-of-these', what: 'all four removed', edits: [...noLog, ...noMetrics, ...noSigning, ...noPipeline] },
];

/** Copies the compiled tree `from` to `to` and applies the ablation's edits there. */
export function makeVariant(from: string, to: string, ablation: Ablation): void {
  rmSync(to, { recursive: true, force: true });
  cpSync(from, to, { recursive: true });
  for (const edit of ablation.edits) {
    const path = join(to, edit.file);
    const text = readFileSync(path, 'utf8');
    if (!text.includes(edit.find)) {
      throw new Error(`ablation ${ablation.name}: ${edit.file} no longer contains ${JSON.stringify(edit.find.slice(0, 60))}`);
    }
    writeFileSync(path, text.split(edit.find).join(edit.replace));
  }
}
