/**
 * The OpenAI Chat Completions surface (docs/contract.md#surfaces): `POST /v1/chat/completions` (and
 * `/chat/completions`). Reader: request.ts; stream renderer: renderer.ts; whole answer: answer.ts; errors:
 * OpenAI's shape (`{"error":{message,type,param,code}}`, src/errors.ts). Unknown parameters are a 400
 * `unsupported_parameter`, or dropped with drop_params (docs/contract.md#parameters).
 */
import { errorBody } from '../../errors.ts';
import { randomHex } from '../../server/ids.ts';
import { serveModelCall } from '../../server/model-call.ts';
import type { ModelSurface, RouteEntry } from '../../server/surface.ts';
import { assembleCompletion } from '../chat-answer.ts';
import { ChatRenderer } from './renderer.ts';
import { readChatRequest } from '../chat-request.ts';

export const chatSurface: ModelSurface = {
  name: 'chat',
  read: (body) => readChatRequest(body),
  newId: () => `chatcmpl-${randomHex(12)}`,
  renderer: (meta, request) => new ChatRenderer({ ...meta, includeUsage: request.sidecar.includeUsage }),
  answer: (events, meta) => {
    const completion = assembleCompletion(events, meta);
    return 'error' in completion ? completion : { body: completion.body, usage: completion.usage };
  },
  errorBody,
};

const entry: RouteEntry = {
  methods: { POST: (ctx, req, res, requestId) => serveModelCall(ctx, chatSurface, req, res, requestId) },
  auth: true,
  surface: chatSurface,
  refuseWhileDraining: true,
};

export const chatRoutes: Record<string, RouteEntry> = {
  '/v1/chat/completions': entry,
  '/chat/completions': entry,
};
