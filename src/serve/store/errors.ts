// The store's refusals, with a code the HTTP layer maps to a status: a conversation or message that
// does not exist (404), a request the store cannot take (400), a database it cannot open or reach.

/** Why the store refused: `not_found` (no such conversation or message), `invalid` (a bad value), `unavailable` (the database cannot be opened or reached). */
export type StoreErrorCode = 'not_found' | 'invalid' | 'unavailable';

/**
 * An error of the conversation store. Its message says what is wrong and what to do; `code` says
 * which kind it is, so a server can answer 404, 400 or 503 without reading the message.
 *
 * @example
 * try { await store.setFeedback(id, { rating: 'up' }); }
 * catch (e) { if (e instanceof StoreError && e.code === 'not_found') reply.code(404); }
 */
export class StoreError extends Error {
  constructor(
    readonly code: StoreErrorCode,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = 'StoreError';
  }
}
