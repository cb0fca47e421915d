/**
 * The Anthropic Messages surface (docs/contract.md#anthropic-messages): `POST /v1/messages` (a `?beta=true`
 * query is accepted and ignored). Reader: request.ts (the client's own body rides along for Claude on invoke,
 * src/providers/anthropic-native.ts); stream renderer: renderer.ts, on the Claude events core it shares with the
 * native invoke (src/surfaces/anthropic-events.ts, which also builds the whole answer); errors: Anthropic's shape
 * (errors.ts). Parameters a family cannot take are dropped and logged, never a 400: Claude Code and the
 * Agent SDK cannot be told to leave them out — except a structured output (`output_config.format`), whose
 * client would parse prose: a 400 naming it (unless drop_params is set). Content only Claude's own body can carry (URL or file-id documents,
 * server tools, URL images) is a 400 naming it for a target that gets the translation.
 */
import { randomHex } from '../../server/ids.ts';
import { serveModelCall } from '../../server/model-call.ts';
import type { ModelSurface, RouteEntry } from '../../server/surface.ts';
import { anthropicMessage } from '../anthropic-events.ts';
import { anthropicErrorBody } from './errors.ts';
import { MessagesRenderer } from './renderer.ts';
import { countTokens } from './count-tokens.ts';
import { checkTranslatable, readMessagesRequest } from './request.ts';

export const messagesSurface: ModelSurface = {
  name: 'messages',
  read: (body, req) => readMessagesRequest(body, req),
  newId: () => `msg_bdrk_${randomHex(12)}`,
  renderer: (meta) => new MessagesRenderer(meta),
  answer: (events, meta) => anthropicMessage(events, meta),
  errorBody: anthropicErrorBody,
  dropsUnsupported: true,
  keepsParams: new Set(['response_format']),
  check: checkTranslatable,
};

const messages: RouteEntry = {
  methods: { POST: (ctx, req, res, requestId) => serveModelCall(ctx, messagesSurface, req, res, requestId) },
  auth: true,
  surface: messagesSurface,
  refuseWhileDraining: true,
};

export const messagesRoutes: Record<string, RouteEntry> = {
  '/v1/messages': messages,
  '/v1/messages/count_tokens': {
    methods: { POST: countTokens },
    auth: true,
    surface: messagesSurface,
    refuseWhileDraining: true,
  },
};
