// The emulator's HTTP/1.1 server: records every request, authenticates it (SigV4 or Bedrock API key),
// routes it on the raw path and hands it to the operation handler. Owns the reply queues, the sockets
// (destroyed on close) and the deterministic id/padding generators.
import { createHash, randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import { sendAwsError, sendUnknownOperation } from './aws-errors.ts';
import type { CallContext } from './call.ts';
import { PromptCache } from './prompt-cache.ts';
import { handleApplyGuardrail } from './guardrail.ts';
import { handleConverse } from './converse.ts';
import { handleCountTokens } from './count-tokens.ts';
import { seededRandom } from './frames.ts';
import { handleInvoke } from './invoke.ts';
import { route, splitTarget } from './routes.ts';
import { defaultReplyText, markerReply, ScriptQueue } from './script.ts';
import { MISSING_AUTH_MESSAGE, UNKNOWN_KEY_MESSAGE, verifySigV4 } from './sigv4.ts';
import { ResponseTracker } from './stream-writer.ts';
import type {
  EmulatorCredential,
  EmulatorOptions,
  EndpointBehavior,
  GuardrailRules,
  RecordedRequest,
  ScriptedGuardrailReply,
  ScriptedReply,
} from './types.ts';

export interface Emulator {
  readonly url: string;
  readonly port: number;
  readonly requests: RecordedRequest[];
  script(...replies: ScriptedReply[]): void;
  scriptGuardrail(...replies: ScriptedGuardrailReply[]): void;
  /** Changes how every later model call is treated (throttle, unavailable, slow, down, serve). */
  setBehavior(behavior: EndpointBehavior): void;
  reset(): void;
  close(): Promise<void>;
}

export const DEFAULT_CREDENTIALS: EmulatorCredential[] = [
  { accessKeyId: 'AKIDEXAMPLE', secretAccessKey: 'wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY' },
];

const MODEL_CALLS = new Set(['InvokeModel', 'InvokeModelWithResponseStream', 'Converse', 'ConverseStream']);

/** Bedrock's limit on an InvokeModel body (service model: `body` ≤ 25,000,000 bytes). */
export const MAX_BODY_BYTES = 25_000_000;

interface ReadBody {
  body: Buffer;
  sha256Hex: string;
  tooLarge: boolean;
}

function readBody(req: IncomingMessage): Promise<ReadBody> {
  return new Promise((resolve) => {
    const hash = createHash('sha256');
    const parts: Buffer[] = [];
    let size = 0;
    req.on('data', (chunk: Buffer) => {
      hash.update(chunk);
      size += chunk.length;
      if (size <= MAX_BODY_BYTES) parts.push(chunk);
    });
    let finished = false;
    const finish = (): void => {
      if (finished) return;
      finished = true;
      resolve({
        body: size <= MAX_BODY_BYTES ? Buffer.concat(parts) : Buffer.alloc(0),
        sha256Hex: hash.digest('hex'),
        tooLarge: size > MAX_BODY_BYTES,
      });
    };
    req.once('end', finish);
    req.once('error', finish);
    req.once('close', () => {
      if (!req.complete) finish();
    });
  });
}

function headerPairs(raw: string[]): [string, string][] {
  const out: [string, string][] = [];
  for (let i = 0; i + 1 < raw.length; i += 2) out.push([raw[i]!, raw[i + 1]!]);
  return out;
}

function tryJson(body: Buffer): unknown {
  if (body.length === 0) return undefined;
  try {
    return JSON.parse(body.toString('utf8'));
  } catch {
    return undefined;
  }
}

export async function startEmulator(options: EmulatorOptions = {}): Promise<Emulator> {
  const host = options.host ?? '127.0.0.1';
  const credentials = options.credentials ?? DEFAULT_CREDENTIALS;
  const verify = options.verifySignature ?? true;
  const apiKeys = new Set(options.apiKeys ?? []);
  const frameDelayMs = options.frameDelayMs ?? 0;
  const maxClockSkewMs = options.maxClockSkewMs ?? 15 * 60 * 1000;
  const guardrails: GuardrailRules = options.guardrails ?? {};
  let behavior: EndpointBehavior = options.behavior ?? { kind: 'serve' };
  const log = options.quiet ? () => {} : (o: Record<string, unknown>) => process.stdout.write(JSON.stringify(o) + '\n');

  const requests: RecordedRequest[] = [];
  const modelQueue = new ScriptQueue<ScriptedReply>();
  const guardrailQueue = new ScriptQueue<ScriptedGuardrailReply>();
  const sockets = new Set<Socket>();
  const trackers = new Set<ResponseTracker>();
  const rand = seededRandom(0x5eed);
  const promptCache = new PromptCache();
  let idCounter = 0;
  let callCounter = 0;
  const newId = (prefix: string): string => `${prefix}emu${(++idCounter).toString(36).padStart(10, '0')}`;

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const startMs = Date.now();
    const requestId = randomUUID();
    const { rawPath, rawQuery } = splitTarget(req.url ?? '/');
    const method = req.method ?? 'GET';
    const r = route(method, rawPath);
    const tracker = new ResponseTracker(res);
    trackers.add(tracker);
    const record: RecordedRequest = {
      method,
      rawPath,
      operation: r.operation,
      headers: req.headers,
      body: Buffer.alloc(0),
      signature: 'missing',
      done: tracker.done,
      progress: () => ({ framesWritten: tracker.framesWritten, writesPaused: tracker.writesPaused }),
    };
    if (r.modelId !== undefined) record.modelId = r.modelId;
    if (r.guardrailId !== undefined) record.guardrailId = r.guardrailId;
    if (r.guardrailVersion !== undefined) record.guardrailVersion = r.guardrailVersion;
    requests.push(record);
    void tracker.done.then((d) => {
      trackers.delete(tracker);
      log({
        msg: 'emulator request',
        method,
        path: rawPath,
        operation: r.operation,
        status: record.status,
        signature: record.signature,
        ...d,
      });
    });
    res.on('error', () => {});

    const { body, sha256Hex, tooLarge } = await readBody(req);
    record.body = body;
    const json = tryJson(body);
    if (json !== undefined) record.json = json;
    if (tracker.gone) return;

    const fail = (status: number, errorType: string, message: string): void => {
      record.status = status;
      sendAwsError(res, requestId, status, errorType, message);
    };

    if (r.operation === 'unknown') {
      record.status = 404;
      sendUnknownOperation(res, requestId);
      return;
    }

    // Authentication: Bedrock API key (Bearer) or SigV4.
    const authz = req.headers.authorization;
    if (authz !== undefined && /^Bearer /i.test(authz)) {
      if (apiKeys.has(authz.slice(7).trim())) record.signature = 'bearer';
      else {
        record.signature = 'invalid';
        record.signatureProblem = 'unknown API key';
        if (verify) return fail(403, 'UnrecognizedClientException', UNKNOWN_KEY_MESSAGE);
      }
    } else if (authz === undefined) {
      record.signature = 'missing';
      if (verify) return fail(403, 'MissingAuthenticationTokenException', MISSING_AUTH_MESSAGE);
    } else {
      const scope = /Credential=[^/,\s]+\/\d{8}\/([^/,\s]+)\//.exec(authz);
      if (scope) record.region = scope[1];
      const outcome = verifySigV4({ method, rawPath, rawQuery, headers: headerPairs(req.rawHeaders), payloadSha256Hex: sha256Hex }, authz, {
        credentials,
        service: 'bedrock',
        nowMs: Date.now(),
        maxClockSkewMs,
      });
      if (outcome.ok) record.signature = 'valid';
      else {
        record.signature = 'invalid';
        record.signatureProblem = outcome.problem;
        if (verify) return fail(outcome.status, outcome.errorType, outcome.message);
      }
    }

    if (tooLarge) {
      return fail(
        400,
        'ValidationException',
        `1 validation error detected: Value at 'body' failed to satisfy constraint: Member must have length less than or equal to ${MAX_BODY_BYTES}`,
      );
    }

    if (MODEL_CALLS.has(r.operation) && behavior.kind !== 'serve') {
      const b = behavior;
      if (b.kind === 'down') {
        record.status = 0;
        req.socket.destroy();
        return;
      }
      if (b.kind === 'throttle') return fail(429, 'ThrottlingException', 'Too many tokens, please wait before trying again.');
      if (b.kind === 'unavailable') return fail(503, 'ServiceUnavailableException', 'Bedrock is unable to process your request.');
      await tracker.wait(b.ms); // or less, if the client leaves first
      if (tracker.gone) return;
    }

    const call: CallContext = {
      req,
      res,
      record,
      tracker,
      requestId,
      startMs,
      seq: ++callCounter,
      modelId: r.modelId ?? '',
      body,
      frameDelayMs,
      nextReply: (lastUserText) => modelQueue.next() ?? markerReply(lastUserText) ?? { type: 'text', text: defaultReplyText(lastUserText) },
      render: { modelId: r.modelId ?? '', newId },
      rand,
      guardrails,
      promptCache,
      validationError: (message) => fail(400, 'ValidationException', message),
    };

    switch (r.operation) {
      case 'InvokeModel':
        return handleInvoke(call, false);
      case 'InvokeModelWithResponseStream':
        return handleInvoke(call, true);
      case 'Converse':
        return handleConverse(call, false);
      case 'ConverseStream':
        return handleConverse(call, true);
      case 'CountTokens':
        return handleCountTokens(call);
      case 'ApplyGuardrail':
        return handleApplyGuardrail(call, r.guardrailId ?? '', r.guardrailVersion ?? '', guardrailQueue);
    }
  }

  const server = createServer({ keepAlive: true }, (req, res) => {
    handle(req, res).catch((err: unknown) => {
      const message = err instanceof Error ? err.message : String(err);
      log({ msg: 'emulator internal error', error: message });
      if (!res.headersSent) sendAwsError(res, randomUUID(), 500, 'InternalServerException', `emulator: ${message}`);
      else res.destroy();
    });
  });
  server.keepAliveTimeout = 30_000;
  server.on('connection', (socket: Socket) => {
    sockets.add(socket);
    socket.once('close', () => sockets.delete(socket));
  });

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : 0;
  const url = `http://${host.includes(':') ? `[${host}]` : host}:${port}`;

  return {
    url,
    port,
    requests,
    script: (...replies) => modelQueue.push(...replies),
    scriptGuardrail: (...replies) => guardrailQueue.push(...replies),
    setBehavior: (b) => {
      behavior = b;
    },
    reset: () => {
      modelQueue.clear();
      guardrailQueue.clear();
      requests.length = 0;
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        for (const t of trackers) t.selfDestroyed = true;
        for (const s of sockets) s.destroy();
      }),
  };
}
