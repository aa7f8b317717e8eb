// Server-Sent Events as OpenAI streams them: one `data: {json}` event per chunk, `data: [DONE]`
// at the end. The events go into a stream that Fastify pipes to the response, so they are written
// as they come, before or after the headers leave.

import { PassThrough } from 'node:stream';

/** The response headers of an event stream (X-Accel-Buffering: nginx must not hold events back). */
export const SSE_HEADERS: Record<string, string> = {
  'content-type': 'text/event-stream; charset=utf-8',
  'cache-control': 'no-cache',
  'x-accel-buffering': 'no',
};

/** One event stream: `send` JSON events, then `done` (or `fail` with an error event). */
export class SseStream {
  readonly stream = new PassThrough();

  /** Whether the stream was ended or destroyed (the client went away). */
  get closed(): boolean {
    return this.stream.destroyed || this.stream.writableEnded;
  }

  send(data: unknown): void {
    if (!this.closed) this.stream.write(`data: ${JSON.stringify(data)}\n\n`);
  }

  /** End with OpenAI's terminator. */
  done(): void {
    if (!this.closed) this.stream.end('data: [DONE]\n\n');
  }

  /** End with an error event ({"error": {...}}, which OpenAI's clients raise), and no [DONE]. */
  fail(body: unknown): void {
    if (!this.closed) this.stream.end(`data: ${JSON.stringify(body)}\n\n`);
  }

  /** End with no further event. */
  end(): void {
    if (!this.closed) this.stream.end();
  }
}
