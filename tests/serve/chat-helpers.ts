// Helpers of the conversation-route and chat-page tests: an engine whose answers arrive at a set
// pace (so that a test can see text grow and stop it midway), and SSE bodies split into events.
import { expect } from 'vitest';
import type { Engine, EngineRequest, EngineResult } from '../../src/serve/engine-api.js';

/**
 * The real engine's answers, replayed one token every `ms` milliseconds: the engine generates the
 * tokens (a tiny model does it in a few ms), then they reach onToken at a human pace. An abort
 * (signal, or close past its grace) ends the replay with the tokens given so far and finish
 * reason 'abort', as the engine itself does.
 */
export function pacedEngine(engine: Engine, ms: number): Engine {
  const running = new Set<AbortController>();
  let closing = false;
  const paced: Engine = {
    get parallel() {
      return engine.parallel;
    },
    get ctx() {
      return engine.ctx;
    },
    get maxQueue() {
      return engine.maxQueue;
    },
    get vocabSize() {
      return engine.vocabSize;
    },
    get eosTokenId() {
      return engine.eosTokenId;
    },
    get running() {
      return running.size;
    },
    get waiting() {
      return engine.waiting;
    },
    async submit(req: EngineRequest): Promise<EngineResult> {
      const { onToken, signal, ...rest } = req;
      const all = await engine.submit(rest);
      const stop = new AbortController();
      running.add(stop);
      const aborted = () => signal?.aborted || stop.signal.aborted;
      const tokens: number[] = [];
      const started = performance.now();
      try {
        for (const t of all.tokens) {
          if (aborted()) break;
          await new Promise<void>((r) => {
            const timer = setTimeout(r, ms);
            const onAbort = () => {
              clearTimeout(timer);
              r();
            };
            signal?.addEventListener('abort', onAbort, { once: true });
            stop.signal.addEventListener('abort', onAbort, { once: true });
          });
          if (aborted()) break;
          tokens.push(t);
          onToken?.(t);
        }
      } finally {
        running.delete(stop);
      }
      const cut = tokens.length < all.tokens.length;
      return {
        ...all,
        tokens,
        completionTokens: cut ? tokens.length : all.completionTokens,
        finishReason: cut ? 'abort' : all.finishReason,
        generationMs: performance.now() - started,
      };
    },
    embed: (inputs, signal) => engine.embed(inputs, signal),
    onStep: (listener) => engine.onStep(listener),
    async close(graceMs = 0) {
      if (!closing) {
        closing = true;
        const deadline = Date.now() + graceMs;
        while (running.size && Date.now() < deadline) await new Promise((r) => setTimeout(r, 10));
        for (const c of running) c.abort();
      }
      await engine.close(0);
    },
  };
  return paced;
}

/** The events of an SSE body: parsed JSON, and the literal '[DONE]'. */
export function sseEvents(body: string): unknown[] {
  return body
    .split('\n\n')
    .filter((e) => e.trim() !== '')
    .map((e) => {
      expect(e.startsWith('data: ')).toBe(true);
      const data = e.slice('data: '.length);
      return data === '[DONE]' ? data : JSON.parse(data);
    });
}
