/**
 * The Anthropic Messages surface (docs/contract.md#anthropic-messages): `POST /v1/messages` (a `?beta=true`
 * query is accepted and ignored). Reader: request.ts (the client's own body rides along for Claude on invoke,
 * src/providers/anthropic-native.ts); stream renderer: renderer.ts; whole answer: answer.ts; errors: Anthropic's
 * shape (errors.ts). Parameters a family cannot take are dropped and logged, never a 400: Claude Code and the
 * Agent SDK cannot be told to leave them out. Content only Claude's own body can carry (documents, server tools,
 * URL images) is a 400 naming it for a target that gets the translation.
 */
import { randomBytes } from 'node:crypto';
import { SidecarError } from '../../errors.ts';
import { serveModelCall } from '../../server/model-call.ts';
import type { ModelSurface, RouteEntry, SurfaceRequest } from '../../server/surface.ts';
import { assembleMessage } from './answer.ts';
import { anthropicErrorBody } from './errors.ts';
import { MessagesRenderer } from './renderer.ts';
import { readMessagesRequest, type MessagesRead } from './request.ts';

export const messagesSurface: ModelSurface = {
  name: 'messages',
  read: (body, req) => readMessagesRequest(body, req),
  newId: () => `msg_bdrk_${randomBytes(12).toString('hex')}`,
  renderer: (meta) => new MessagesRenderer(meta),
  answer: (events, meta) => assembleMessage(events, meta),
  errorBody: anthropicErrorBody,
  dropsUnsupported: true,
  check: (read: SurfaceRequest, target) => {
    const untranslatable = (read as MessagesRead).untranslatable;
    const native = target.family === 'anthropic' && target.route === 'invoke';
    if (native || untranslatable.length === 0) return;
    throw new SidecarError('invalid_request_error',
      `${untranslatable[0]} cannot be sent to ${target.family ?? 'this model'} on the ${target.route} route: only Claude on invoke takes it`,
      { param: untranslatable[0]!.split(' ')[0]! });
  },
};

const messages: RouteEntry = {
  methods: { POST: (ctx, req, res, requestId) => serveModelCall(ctx, messagesSurface, req, res, requestId) },
  auth: true,
  surface: messagesSurface,
  refuseWhileDraining: true,
};

export const messagesRoutes: Record<string, RouteEntry> = {
  '/v1/messages': messages,
};
