// The HTTP server of `nabla serve`: a Fastify app with OpenAI's routes over one generation engine.
// It listens before the model is loaded (GET /health answers 503 until setModel), checks the API
// key in constant time, validates every body against its schema, answers every error in OpenAI's
// shape, counts what it does for Prometheus, and shuts down gracefully (close: no new requests,
// the running ones finish within a grace period).

import { createHash, timingSafeEqual } from 'node:crypto';
import type { AddressInfo } from 'node:net';
import Fastify, { type FastifyError, type FastifyInstance, type FastifyReply, type FastifyRequest } from 'fastify';
import { ApiError, RETRY_AFTER_S, badRequest, toApiError } from './errors.js';
import { type GenerationContext, type ServedModel, chatCompletions, checkIds, checkModel, completions, encodeText } from './generate.js';
import { ServerMetrics } from './metrics.js';
import { type ChatRoutes, registerChatRoutes } from './chat-routes.js';
import type { ConversationStore } from './store/types.js';
import {
  type DetokenizeBody,
  type EmbeddingsBody,
  type TokenizeBody,
  FIELD_HINTS,
  chatSchema,
  completionSchema,
  detokenizeSchema,
  embeddingsSchema,
  tokenizeSchema,
} from './schemas.js';

/** Options of {@link createServer}. */
export interface ServerOptions {
  /** The model's id (GET /v1/models, the `model` field of requests and responses). */
  name: string;
  /** Require `Authorization: Bearer KEY` on every route but /health; null or '' for none. */
  apiKey?: string | null;
  /** Largest request body, bytes (default 1 MiB); past it, 413. */
  bodyLimit?: number;
  /** The model to serve now; else /health answers 503 until {@link NablaServer.setModel}. */
  model?: ServedModel;
  /** Fastify's logger (default off). */
  logger?: boolean;
  /** Process metrics (memory, CPU, event-loop lag) in /metrics (default true). */
  processMetrics?: boolean;
  /**
   * Where conversations are kept: with one, the chat page (/), the admin page (/admin) and the
   * /v1/conversations routes work; without, those routes answer 503 saying how to start with one.
   * The caller opens it and closes it after {@link NablaServer.close}.
   */
  store?: ConversationStore | null;
}

/** A server made by {@link createServer}. */
export interface NablaServer {
  readonly app: FastifyInstance;
  readonly metrics: ServerMetrics;
  /** The model is loaded: the routes start answering. */
  setModel(model: ServedModel): void;
  /** Listen; resolves to the base URL (http://host:port). Port 0 picks a free port. */
  listen(o: { host?: string; port?: number }): Promise<string>;
  /**
   * Shut down: new requests get 503, running ones finish (the engine aborts what is left after
   * graceMs), then the sockets close and the engine frees its caches.
   */
  close(graceMs?: number): Promise<void>;
}

const DEFAULT_BODY_LIMIT = 2 ** 20;

/** Routes that need the model loaded (everything but /health and /metrics). */
const NEEDS_MODEL = { needsModel: true };

/** SHA-256 of a key: hashing first makes both sides one length, so timingSafeEqual compares them in constant time. */
const digest = (s: string) => createHash('sha256').update(s, 'utf8').digest();

/** `messages/0/role` → `messages[0].role`. */
function paramOf(path: string): string | null {
  const parts = path.split('/').filter(Boolean);
  if (parts.length === 0) return null;
  return parts.map((p, i) => (/^\d+$/.test(p) ? `[${p}]` : i === 0 ? p : `.${p}`)).join('');
}

/** A value of the body, in words, for "got ..." (values are cut short: they are the client's). */
function describeValue(v: unknown): string {
  if (v === undefined) return 'nothing';
  if (v === null) return 'null';
  if (Array.isArray(v)) return `a list of ${v.length}`;
  if (typeof v === 'object') return 'an object';
  const s = JSON.stringify(v);
  return `${typeof v === 'string' ? 'the string' : typeof v === 'number' ? 'the number' : typeof v} ${s.length > 40 ? `${s.slice(0, 40)}…` : s}`;
}

interface AjvError {
  keyword: string;
  instancePath: string;
  message?: string;
  params: Record<string, unknown>;
}

/** A failed schema validation as a 400 naming the field, what it must be, and what it was. */
function validationError(errors: AjvError[], body: unknown, contentType: string): ApiError {
  // With anyOf (nullable fields, string-or-list) ajv reports each branch, then the anyOf itself: the last error names the field.
  const e = errors[errors.length - 1];
  let path = e.instancePath;
  if (e.keyword === 'required') path = `${path}/${String(e.params.missingProperty)}`;
  const param = paramOf(path);
  if (param === null) {
    // Fastify reads text/plain bodies as strings: the usual cause is a missing Content-Type.
    if (contentType.startsWith('text/')) return badRequest('the body arrived as text; send it as a JSON object with Content-Type: application/json', null, 'invalid_content_type');
    return badRequest(`the body must be a JSON object, got ${describeValue(body)}`);
  }
  let value: unknown = body;
  for (const p of path.split('/').filter(Boolean)) value = value == null ? undefined : (value as Record<string, unknown>)[p];
  // A field's hint says what the whole field must be; an item of a list (tokens[1]) gets ajv's words.
  const field = path.split('/').filter(Boolean).pop() ?? param;
  const hint = Object.hasOwn(FIELD_HINTS, field) ? FIELD_HINTS[field] : null;
  if (e.keyword === 'required') return badRequest(`${param} is required${hint ? `: send ${hint}` : ''}`, param, 'missing_required_parameter');
  const why = hint ? `must be ${hint}` : (e.message ?? 'is invalid');
  return badRequest(`${param} ${why}, got ${describeValue(value)}`, param, 'invalid_value');
}

/**
 * A request body as JSON, refusing `__proto__` and `constructor.prototype` keys (prototype
 * poisoning, as Fastify's secure-json-parse does), with JSON.parse's own words for a syntax error.
 */
function parseJsonBody(text: string): unknown {
  if (text.trim() === '') throw badRequest('the body is empty; send a JSON object', null, 'invalid_json');
  try {
    return JSON.parse(text, (key, value) => {
      if (key === '__proto__' || (key === 'constructor' && typeof value === 'object' && value !== null && Object.hasOwn(value, 'prototype'))) {
        throw new ApiError(400, `the body holds a ${key === '__proto__' ? '__proto__' : 'constructor.prototype'} key, which this server refuses; rename that field`, {
          code: 'invalid_json',
        });
      }
      return value;
    });
  } catch (e) {
    if (e instanceof ApiError) throw e;
    throw badRequest(`the body is not valid JSON (${(e as Error).message}); check its quotes, commas and brackets`, null, 'invalid_json');
  }
}

/** Fastify's own refusals (body parser, content type) as OpenAI errors. */
function fastifyError(err: FastifyError, bodyLimit: number): ApiError | null {
  switch (err.code) {
    case 'FST_ERR_CTP_BODY_TOO_LARGE':
      return new ApiError(413, `the request body is larger than this server's limit of ${bodyLimit} bytes; send a shorter one (or start the server with a larger --body-limit)`, {
        code: 'request_too_large',
      });
    case 'FST_ERR_CTP_INVALID_MEDIA_TYPE':
      return badRequest('the body must be JSON: send it with Content-Type: application/json', null, 'invalid_content_type');
    case 'FST_ERR_CTP_INVALID_CONTENT_LENGTH':
      return badRequest('the Content-Length header does not match the body', null, 'invalid_request');
  }
  if (err.statusCode !== undefined && err.statusCode >= 400 && err.statusCode < 500) return new ApiError(err.statusCode, err.message);
  return null;
}

/**
 * An OpenAI-compatible server over a generation engine.
 * @example
 *   const server = await createServer({ name: 'gpt2', model: { engine, tokenizer, chatTemplate } });
 *   const url = await server.listen({ port: 8080 }); // then POST url + '/v1/chat/completions'
 */
export async function createServer(opts: ServerOptions): Promise<NablaServer> {
  const bodyLimit = opts.bodyLimit ?? DEFAULT_BODY_LIMIT;
  const app = Fastify({
    bodyLimit,
    logger: opts.logger ?? false,
    return503OnClosing: false, // our onRequest hook answers in OpenAI's shape
    ajv: { customOptions: { coerceTypes: false, removeAdditional: false, useDefaults: false, allErrors: false } },
  });
  // Our own JSON parser: Fastify's hides why a body is not JSON, which is what the client needs to know.
  app.removeContentTypeParser('application/json');
  app.addContentTypeParser('application/json', { parseAs: 'string' }, (_req, body, done) => {
    try {
      done(null, parseJsonBody(body as string));
    } catch (e) {
      done(e as Error, undefined);
    }
  });
  const metrics = new ServerMetrics({ defaultMetrics: opts.processMetrics ?? true });
  const keyDigest = opts.apiKey ? digest(opts.apiKey) : null;
  let served: ServedModel | null = null;
  let closing = false;
  let closed: Promise<void> | null = null;
  const context = (): GenerationContext => ({ served: served!, name: opts.name, metrics });

  const setModel = (m: ServedModel) => {
    served = m;
    metrics.watch(m.engine);
  };
  if (opts.model) setModel(opts.model);

  app.addHook('onRequest', async (req) => {
    if (closing) {
      throw new ApiError(503, 'the server is shutting down and takes no new requests; retry against another instance or once it is back', {
        code: 'shutting_down',
        headers: { 'retry-after': String(RETRY_AFTER_S) },
      });
    }
    if (req.routeOptions.url === '/health' || (req.routeOptions.config as { public?: boolean } | undefined)?.public) return; // the pages ask for the key themselves
    if (keyDigest) {
      const header = req.headers.authorization ?? '';
      const m = /^Bearer\s+(.+)$/i.exec(header);
      if (!m || !timingSafeEqual(digest(m[1].trim()), keyDigest)) {
        throw new ApiError(
          401,
          m ? 'Incorrect API key provided; send the key the server was started with (--api-key or NABLA_API_KEY)' : 'No API key provided; send the header Authorization: Bearer KEY',
          {
            code: 'invalid_api_key',
            headers: { 'www-authenticate': 'Bearer' },
          },
        );
      }
    }
    if ((req.routeOptions.config as { needsModel?: boolean } | undefined)?.needsModel && !served) {
      throw new ApiError(503, 'the model is still loading; retry when GET /health answers 200', { code: 'model_loading', headers: { 'retry-after': String(RETRY_AFTER_S) } });
    }
  });

  app.addHook('onResponse', async (req, reply) => {
    metrics.requests.inc({ endpoint: req.routeOptions.url ?? 'unmatched', status: String(reply.statusCode) });
  });

  app.setErrorHandler((err: FastifyError, req: FastifyRequest, reply: FastifyReply) => {
    let api: ApiError;
    if (err instanceof ApiError) api = err;
    else if (err.validation) api = validationError(err.validation as AjvError[], req.body, String(req.headers['content-type'] ?? ''));
    else api = fastifyError(err, bodyLimit) ?? toApiError(err, served?.engine);
    if (api.status >= 500) req.log.error({ err }, 'request failed');
    void reply
      .code(api.status)
      .headers(api.o.headers ?? {})
      .send(api.toJSON());
  });

  app.setNotFoundHandler((req, reply) => {
    const api = new ApiError(
      404,
      `Unknown route ${req.method} ${req.url.split('?')[0]}: this server answers GET /health, /metrics, /v1/models, / (the chat page), /admin; POST /v1/completions, /v1/chat/completions, /v1/embeddings, /tokenize, /detokenize; /v1/conversations (GET, POST), /v1/conversations/ID (GET, DELETE), POST /v1/conversations/ID/messages, POST /v1/messages/ID/feedback, GET /v1/feedback/export`,
      { code: 'unknown_url' },
    );
    void reply.code(404).send(api.toJSON());
  });

  // While shutting down, the onRequest hook answers 503 (shutting_down) here too.
  app.get('/health', async (_req, reply) => {
    if (!served) {
      return reply
        .code(503)
        .header('retry-after', String(RETRY_AFTER_S))
        .send(new ApiError(503, 'the model is loading', { code: 'model_loading' }).toJSON());
    }
    return { status: 'ok' };
  });

  app.get('/metrics', async (_req, reply) => {
    reply.header('content-type', metrics.registry.contentType);
    return metrics.registry.metrics();
  });

  const startedAt = Math.floor(Date.now() / 1000);
  // vLLM's max_model_len beside OpenAI's fields: what a client needs to size its prompts.
  const modelObject = () => ({ id: opts.name, object: 'model', created: startedAt, owned_by: 'nabla', max_model_len: served!.engine.ctx });
  app.get('/v1/models', { config: NEEDS_MODEL }, async () => ({ object: 'list', data: [modelObject()] }));
  app.get('/v1/models/:model', { config: NEEDS_MODEL }, async (req) => {
    checkModel((req.params as { model: string }).model, opts.name);
    return modelObject();
  });

  app.post('/v1/completions', { schema: { body: completionSchema }, config: NEEDS_MODEL }, (req, reply) => completions(context(), req, reply));
  app.post('/v1/chat/completions', { schema: { body: chatSchema }, config: NEEDS_MODEL }, (req, reply) => chatCompletions(context(), req, reply));

  app.post('/v1/embeddings', { schema: { body: embeddingsSchema }, config: NEEDS_MODEL }, async (req, reply) => {
    const b = req.body as EmbeddingsBody;
    checkModel(b.model, opts.name);
    const { engine, tokenizer } = served!;
    const raw = b.input;
    const lists: number[][] =
      typeof raw === 'string'
        ? [encodeText(tokenizer, raw, 'input')]
        : typeof raw[0] === 'number'
          ? [raw as number[]]
          : typeof raw[0] === 'string'
            ? (raw as string[]).map((s, i) => encodeText(tokenizer, s, `input[${i}]`))
            : (raw as number[][]);
    if (lists.length > MAX_EMBEDDING_INPUTS) throw badRequest(`input holds ${lists.length} items; send at most ${MAX_EMBEDDING_INPUTS} per request`, 'input');
    // Each input is a forward pass between decoding steps: bound a request's work by what the
    // decoding slots hold (--parallel × --ctx tokens), so one request cannot stall the others.
    const total = lists.reduce((s, l) => s + l.length, 0),
      most = engine.parallel * engine.ctx;
    if (total > most)
      throw new ApiError(413, `input totals ${total} tokens; send at most ${most} per request (--parallel × --ctx), or split it`, { param: 'input', code: 'too_many_tokens' });
    lists.forEach((ids, i) => {
      if (ids.length === 0) throw badRequest(`input[${i}] encodes to no tokens; send some text`, 'input');
      if (ids.length > engine.ctx) {
        throw new ApiError(400, `input[${i}] is ${ids.length} tokens, more than the ${engine.ctx}-token context; shorten it`, { param: 'input', code: 'context_length_exceeded' });
      }
      checkIds(ids, engine.vocabSize, 'input');
    });
    // A client that leaves stops the work at the next input.
    const gone = new AbortController();
    const onClose = () => {
      if (!reply.raw.writableFinished) gone.abort();
    };
    reply.raw.on('close', onClose);
    let vectors: number[][];
    try {
      vectors = await engine.embed(lists, gone.signal);
    } finally {
      reply.raw.off('close', onClose);
    }
    const width = vectors[0]?.length ?? 0;
    if (b.dimensions !== undefined && b.dimensions !== width) {
      throw badRequest(`dimensions is ${b.dimensions}, but this model's embeddings have ${width}; send ${width} or leave it out`, 'dimensions');
    }
    const tokens = lists.reduce((s, l) => s + l.length, 0);
    return {
      object: 'list',
      data: vectors.map((v, index) => ({
        object: 'embedding',
        index,
        // base64: the little-endian float32 bytes, as OpenAI sends (and its clients ask for by default).
        embedding: b.encoding_format === 'base64' ? Buffer.from(Float32Array.from(v).buffer).toString('base64') : v,
      })),
      model: opts.name,
      usage: { prompt_tokens: tokens, total_tokens: tokens },
    };
  });

  // llama-server's shapes: {content, add_special, with_pieces} → {tokens}; {tokens} → {content}.
  app.post('/tokenize', { schema: { body: tokenizeSchema }, config: NEEDS_MODEL }, async (req) => {
    const b = req.body as TokenizeBody;
    const { tokenizer } = served!;
    const ids = encodeText(tokenizer, b.content, 'content', b.add_special ?? false);
    return { tokens: b.with_pieces ? ids.map((id) => ({ id, piece: tokenizer.decode([id]) })) : ids };
  });
  app.post('/detokenize', { schema: { body: detokenizeSchema }, config: NEEDS_MODEL }, async (req) => {
    const b = req.body as DetokenizeBody;
    const { tokenizer, engine } = served!;
    checkIds(b.tokens, Math.max(engine.vocabSize, tokenizer.maxTokenId + 1), 'tokens');
    try {
      return { content: tokenizer.decode(b.tokens) };
    } catch (e) {
      throw badRequest(`tokens: ${(e as Error).message}`, 'tokens');
    }
  });

  const chat: ChatRoutes = registerChatRoutes(app, { store: opts.store ?? null, name: opts.name, context, needsModel: NEEDS_MODEL });

  await app.ready();

  return {
    app,
    metrics,
    setModel,
    async listen(o) {
      const host = o.host ?? '127.0.0.1';
      await app.listen({ host, port: o.port ?? 8080 });
      const { port } = app.server.address() as AddressInfo;
      return `http://${host.includes(':') ? `[${host}]` : host}:${port}`;
    },
    close(graceMs = 10_000) {
      closing = true;
      closed ??= (async () => {
        const appClosed = app.close(); // stops accepting; waits for the open responses
        if (served) await served.engine.close(graceMs);
        // Every engine request has ended, so every response is ending. Keep-alive connections
        // become idle as their last response ends: close them as they do; a client that holds a
        // connection open past two seconds more is cut off.
        const idle = setInterval(() => app.server.closeIdleConnections(), 25);
        const cut = setTimeout(() => app.server.closeAllConnections(), 2000);
        try {
          await appClosed;
          await chat.drain(); // answers stopped by the shutdown (or by their client) are stored before the caller closes the store
        } finally {
          clearInterval(idle);
          clearTimeout(cut);
        }
      })();
      return closed;
    },
  };
}

/** Most inputs of one /v1/embeddings request (OpenAI's limit). */
const MAX_EMBEDDING_INPUTS = 2048;
