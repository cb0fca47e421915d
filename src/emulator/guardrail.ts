// ApplyGuardrail (docs/bedrock-wire.md#applyguardrail): `POST /guardrail/{id}/version/{v}/apply`.
// Input: `{source, content:[{text:{text,qualifiers?}}|{image}], outputScope?}`. Output: `{usage, action,
// actionReason?, outputs, assessments, guardrailCoverage}`. A block term anywhere → GUARDRAIL_INTERVENED with
// the blocked message and a word/topic policy BLOCKED; mask terms → GUARDRAIL_INTERVENED with `{TYPE}`
// placeholders and sensitiveInformationPolicy ANONYMIZED; else NONE. `scriptGuardrail` replies override this.
// Source: https://docs.aws.amazon.com/bedrock/latest/APIReference/API_runtime_ApplyGuardrail.html
//         https://docs.aws.amazon.com/bedrock/latest/userguide/guardrails-use-independent-api.html
import { sendAwsError } from './aws-errors.ts';
import { MALFORMED_INPUT, type CallContext } from './call.ts';
import { isJson, type Json } from './families/types.ts';
import { blockAssessment, findBlockTerm, maskAssessment, maskText, resolveRules } from './guardrail-rules.ts';
import { arr, obj, opt, req, smithyReport, str, union, check } from './schema.ts';
import type { ScriptQueue } from './script.ts';
import type { ScriptedGuardrailReply } from './types.ts';

const schema = obj({
  source: req(str(['INPUT', 'OUTPUT'])),
  content: req(
    arr(
      union({
        text: obj({ text: req(str()), qualifiers: opt(arr(str(['grounding_source', 'query', 'guard_content']))) }),
        image: obj({ format: req(str(['png', 'jpeg'])), source: req(union({ bytes: str() })) }),
      }),
    ),
  ),
  outputScope: opt(str(['INTERVENTIONS', 'FULL'])),
});

const ID_PATTERN = /^(([a-z0-9]+)|(arn:aws(-[^:]+)?:bedrock:[a-z0-9-]{1,20}:[0-9]{12}:guardrail\/[a-z0-9]+))$/;
const VERSION_PATTERN = /^(([1-9][0-9]{0,7})|(DRAFT))$/;

function pathProblem(id: string, version: string): string | undefined {
  if (!ID_PATTERN.test(id) || id.length > 2048) {
    return `1 validation error detected: Value '${id}' at 'guardrailIdentifier' failed to satisfy constraint: Member must satisfy regular expression pattern: (([a-z0-9]+)|(arn:aws(-[^:]+)?:bedrock:[a-z0-9-]{1,20}:[0-9]{12}:guardrail/[a-z0-9]+))`;
  }
  if (!VERSION_PATTERN.test(version)) {
    return `1 validation error detected: Value '${version}' at 'guardrailVersion' failed to satisfy constraint: Member must satisfy regular expression pattern: (([1-9][0-9]{0,7})|(DRAFT))`;
  }
  return undefined;
}

function texts(body: Json): string[] {
  return (body.content as Json[]).filter((b) => isJson(b.text)).map((b) => (b.text as Json).text as string);
}

function usage(chars: number): Json {
  const units = Math.max(1, Math.ceil(chars / 1000));
  return {
    topicPolicyUnits: units,
    contentPolicyUnits: units,
    wordPolicyUnits: units,
    sensitiveInformationPolicyUnits: units,
    sensitiveInformationPolicyFreeUnits: 0,
    contextualGroundingPolicyUnits: 0,
  };
}

function metrics(call: CallContext, chars: number): Json {
  return {
    guardrailProcessingLatency: Math.max(1, Date.now() - call.startMs),
    usage: usage(chars),
    guardrailCoverage: { textCharacters: { guarded: chars, total: chars } },
  };
}

type Verdict =
  | { action: 'NONE' }
  | { action: 'BLOCK'; term: string; message: string }
  | { action: 'MASK'; outputs: string[]; entities: { match: string; type: string }[] };

function evaluate(call: CallContext, parts: string[]): Verdict {
  const rules = resolveRules(call.guardrails);
  const term = findBlockTerm(rules, parts.join('\n'));
  if (term !== undefined) return { action: 'BLOCK', term, message: rules.blockedMessage };
  const masked = parts.map((p) => maskText(rules, p));
  const entities = masked.flatMap((m) => m.entities);
  if (entities.length > 0) return { action: 'MASK', outputs: masked.map((m) => m.text), entities };
  return { action: 'NONE' };
}

function responseFor(call: CallContext, verdict: Verdict, chars: number, fullScope: boolean, parts: string[]): Json {
  const m = metrics(call, chars);
  const base = { usage: m.usage, guardrailCoverage: m.guardrailCoverage };
  switch (verdict.action) {
    case 'BLOCK':
      return {
        ...base,
        action: 'GUARDRAIL_INTERVENED',
        actionReason: 'Guardrail blocked.',
        outputs: [{ text: verdict.message }],
        assessments: [{ ...blockAssessment(verdict.term), invocationMetrics: m }],
      };
    case 'MASK':
      return {
        ...base,
        action: 'GUARDRAIL_INTERVENED',
        actionReason: 'Guardrail masked.',
        outputs: verdict.outputs.map((text) => ({ text })),
        assessments: [{ ...maskAssessment(verdict.entities), invocationMetrics: m }],
      };
    case 'NONE':
      return {
        ...base,
        action: 'NONE',
        actionReason: 'No action.',
        outputs: fullScope ? parts.map((text) => ({ text })) : [],
        assessments: [{ invocationMetrics: m }],
      };
  }
}

function sendJson(call: CallContext, status: number, body: unknown): void {
  const out = Buffer.from(JSON.stringify(body), 'utf8');
  call.record.status = status;
  call.res.writeHead(status, { 'content-type': 'application/json', 'content-length': out.length, 'x-amzn-RequestId': call.requestId });
  call.res.end(out);
}

export async function handleApplyGuardrail(
  call: CallContext,
  id: string,
  version: string,
  queue: ScriptQueue<ScriptedGuardrailReply>,
): Promise<void> {
  const bad = pathProblem(id, version);
  if (bad) return call.validationError(bad);
  let body: unknown;
  try {
    body = JSON.parse(call.body.toString('utf8'));
  } catch {
    return call.validationError(MALFORMED_INPUT);
  }
  const problems = check(schema, body);
  if (problems.length > 0 || !isJson(body)) return call.validationError(smithyReport(problems));
  const parts = texts(body);
  const chars = parts.reduce((n, t) => n + t.length, 0);
  const fullScope = body.outputScope === 'FULL';

  let reply = queue.next();
  while (reply?.type === 'delay') {
    await call.tracker.wait(reply.ms);
    if (call.tracker.gone) return;
    reply = reply.then;
  }
  if (reply === undefined || reply.type === 'pass') {
    const verdict: Verdict = reply?.type === 'pass' ? { action: 'NONE' } : evaluate(call, parts);
    return sendJson(call, 200, responseFor(call, verdict, chars, fullScope, parts));
  }
  switch (reply.type) {
    case 'error':
      call.record.status = reply.status;
      return sendAwsError(call.res, call.requestId, reply.status, reply.errorType, reply.message, {}, reply.headers);
    case 'raw':
      return sendJson(call, reply.status ?? 200, reply.body);
    case 'block':
      return sendJson(
        call,
        200,
        responseFor(
          call,
          { action: 'BLOCK', term: parts.join(' ').slice(0, 50), message: reply.message ?? resolveRules(call.guardrails).blockedMessage },
          chars,
          fullScope,
          parts,
        ),
      );
    case 'mask':
      return sendJson(
        call,
        200,
        responseFor(
          call,
          { action: 'MASK', outputs: [reply.outputText], entities: [{ match: 'scripted', type: 'NAME' }] },
          chars,
          fullScope,
          parts,
        ),
      );
  }
}
