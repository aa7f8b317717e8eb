// Errors in OpenAI's shape, {"error": {"message", "type", "param", "code"}}, with the HTTP status
// and headers each carries. Every refusal of the server goes through ApiError, so a client sees one
// shape whatever failed: the JSON parser, schema validation, the engine, or a route of our own.

import { EngineError } from './engine-api.js';

/** The body of every error response, as OpenAI sends it. */
export interface ErrorBody {
  error: {
    message: string;
    /** OpenAI's error class: invalid_request_error, rate_limit_error, server_error. */
    type: string;
    /** The request field at fault, when one is. */
    param: string | null;
    /** A stable machine-readable reason (invalid_api_key, model_not_found, context_length_exceeded, ...). */
    code: string | null;
  };
}

/** An error the server answers with: status, OpenAI's type/param/code, and extra headers (Retry-After). */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    message: string,
    readonly o: { type?: string; param?: string | null; code?: string | null; headers?: Record<string, string> } = {},
  ) {
    super(message);
    this.name = 'ApiError';
  }

  get type(): string {
    return this.o.type ?? (this.status >= 500 ? 'server_error' : 'invalid_request_error');
  }

  toJSON(): ErrorBody {
    return { error: { message: this.message, type: this.type, param: this.o.param ?? null, code: this.o.code ?? null } };
  }
}

/** 400: the request is wrong; `param` names the field, the message says what to send instead. */
export function badRequest(message: string, param: string | null = null, code: string | null = null): ApiError {
  return new ApiError(400, message, { param, code });
}

/** Seconds a client should wait before retrying a request refused for load (429) or loading (503). */
export const RETRY_AFTER_S = 1;

/** The HTTP answer to an engine's refusal. */
export function fromEngineError(e: EngineError, o: { running: number; waiting: number; maxQueue: number; parallel: number }): ApiError {
  switch (e.code) {
    case 'queue_full':
      return new ApiError(
        429,
        `the server is busy: ${o.running} requests are running (--parallel ${o.parallel}) and ${o.waiting} are waiting (--max-queue ${o.maxQueue}); ` +
          `retry after ${RETRY_AFTER_S} s, or start the server with a larger --max-queue or --parallel`,
        { type: 'rate_limit_error', code: 'queue_full', headers: { 'retry-after': String(RETRY_AFTER_S) } },
      );
    case 'context_length':
      return new ApiError(400, e.message, { param: e.param, code: 'context_length_exceeded' });
    case 'invalid_request':
      return new ApiError(400, e.message, { param: e.param });
    case 'shutting_down':
      return new ApiError(503, 'the server is shutting down and takes no new requests; send this one to another instance or retry once it is back', {
        code: 'shutting_down',
        headers: { 'retry-after': String(RETRY_AFTER_S) },
      });
  }
}

/** Any thrown value as an ApiError (an engine's EngineError mapped, anything else a 500 with its message). */
export function toApiError(e: unknown, engine?: { running: number; waiting: number; maxQueue: number; parallel: number }): ApiError {
  if (e instanceof ApiError) return e;
  if (e instanceof EngineError) return fromEngineError(e, engine ?? { running: 0, waiting: 0, maxQueue: 0, parallel: 0 });
  return new ApiError(500, `internal error: ${e instanceof Error ? e.message : String(e)}`, { code: 'internal_error' });
}
