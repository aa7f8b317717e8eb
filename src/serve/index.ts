// `nabla/serve`: the OpenAI-compatible HTTP server and its generation engine, for Node.js (the
// server imports Fastify and node:http, so it stays out of the browser-safe main entry).

import '../index.js'; // the main entry registers the backends and binds the tensor methods the models use

export { createServer, type NablaServer, type ServerOptions } from './app.js';
export { createEngine, type EngineOptions } from './engine.js';
export type { SlotLM, SlotCache, Segment } from '../models/kv-cache.js';
export type { Engine, EngineRequest, EngineResult, FinishReason, StepInfo, EngineErrorCode } from './engine-api.js';
export { EngineError } from './engine-api.js';
export { ApiError, type ErrorBody } from './errors.js';
export type { ServedModel, Usage, Timings } from './generate.js';
export { loadServedModel, type LoadedModel } from './load.js';
export { ServerMetrics } from './metrics.js';
export { TextStream } from './text-stream.js';
export { ChatTemplate, ChatTemplateError, DEFAULT_CHAT_TEMPLATE, DEFAULT_CHAT_STOP, loadChatTemplate, type ChatMessage } from '../text/chat-template.js';
