/**
 * The OpenAI embeddings surface (docs/contract.md#embeddings): `POST /v1/embeddings` (and `/embeddings`).
 * A JSON answer, no stream: the request reader (request.ts), the handler that batches, calls and fails
 * over (handler.ts) and the renderer (render.ts); the error shape is OpenAI's, as the chat surface's.
 */
import type { RouteEntry } from '../../server/surface.ts';
import { embeddingsContext } from '../../server/embedding-call.ts';
import { embeddingsErrorBody, handleEmbeddings } from './handler.ts';

const embeddings: RouteEntry = {
  methods: {
    POST: (ctx, req, res, requestId) => handleEmbeddings(embeddingsContext(ctx), req, res, requestId),
  },
  auth: true,
  surface: { name: 'embeddings', errorBody: embeddingsErrorBody },
  refuseWhileDraining: true,
};

export const embeddingsRoutes: Readonly<Record<string, RouteEntry>> = {
  '/v1/embeddings': embeddings,
  '/embeddings': embeddings,
};
