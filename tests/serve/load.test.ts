// `nabla serve` under load: 16 concurrent streams batched together give the greedy texts of the same
// requests run one at a time; a seeded sampled request gives its text whatever else runs; a full queue answers 429 with Retry-After; a client that disconnects
// mid-stream frees its slot at once.
import { describe, it, expect, beforeAll } from 'vitest';
import OpenAI from 'openai';
import { tinyModelDir, startServer } from './helpers.js';

/** Read a stream to its end: text, finish reason, chunk count. */
async function drain(stream: AsyncIterable<OpenAI.Completion>) {
  let text = '';
  let finish: string | null = null;
  let chunks = 0;
  for await (const c of stream) {
    chunks++;
    text += c.choices[0]?.text ?? '';
    finish = c.choices[0]?.finish_reason ?? finish;
  }
  return { text, finish, chunks };
}

/** Poll until `cond` holds (at most `ms`). */
async function until(cond: () => boolean, ms: number): Promise<boolean> {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) return false;
    await new Promise((r) => setTimeout(r, 5));
  }
  return true;
}

describe('nabla serve under load', () => {
  let dir = '';
  beforeAll(async () => {
    dir = await tinyModelDir({ seed: 9, nPositions: 256 });
  });

  it('16 concurrent streams all finish, batched together, with the greedy texts of one-at-a-time requests', async () => {
    const prompts = Array.from({ length: 16 }, (_, i) => `Request ${i}: ${'abcdefghijklmnop'.slice(0, 1 + i)}`);
    const one = await startServer(dir, { parallel: 1 });
    const sequential: string[] = [];
    try {
      for (const prompt of prompts) sequential.push((await one.client.completions.create({ model: 'tiny', prompt, max_tokens: 12, temperature: 0 })).choices[0].text);
    } finally {
      await one.close();
    }
    const s = await startServer(dir, { parallel: 8, maxQueue: 16 });
    try {
      const results = await Promise.all(
        prompts.map(async (prompt) => drain(await s.client.completions.create({ model: 'tiny', prompt, max_tokens: 12, temperature: 0, stream: true }))),
      );
      expect(results.map((r) => r.text)).toEqual(sequential);
      expect(results.every((r) => r.finish === 'length')).toBe(true);
      const batch = await s.server.metrics.batchSize.get();
      const ones = batch.values.find((v) => v.labels.le === 1)!.value;
      const count = batch.values.find((v) => v.metricName === 'nabla_batch_size_count')!.value;
      expect(count - ones).toBeGreaterThan(0); // some steps decoded several sequences together
      expect(s.served.engine.running + s.served.engine.waiting).toBe(0);
    } finally {
      await s.close();
    }
  });

  it('a seeded sampled request gives the same text alone and among other requests', async () => {
    const s = await startServer(dir, { parallel: 6 });
    try {
      const seeded = { model: 'tiny', prompt: 'Once upon a time', max_tokens: 16, temperature: 1.2, top_k: 50, seed: 1234 };
      const alone = (await s.client.completions.create(seeded)).choices[0].text;
      // The same request with five others decoding beside it, sampled and greedy, some joining later.
      const others = Array.from({ length: 5 }, (_, i) => s.client.completions.create({ model: 'tiny', prompt: `Other ${i}`, max_tokens: 8 + 4 * i, temperature: i % 2 ? 0 : 0.9 }));
      const [together] = await Promise.all([s.client.completions.create(seeded), ...others]);
      expect(together.choices[0].text).toBe(alone);
      expect(alone.length).toBeGreaterThan(0);
    } finally {
      await s.close();
    }
  });

  it('a full queue answers 429 with Retry-After and a message; the server goes on serving', async () => {
    const s = await startServer(dir, { parallel: 1, maxQueue: 1 });
    try {
      const first = await s.client.completions.create({ model: 'tiny', prompt: 'A long one', max_tokens: 250, temperature: 0, stream: true });
      const firstIt = first[Symbol.asyncIterator]();
      await firstIt.next(); // running
      const second = await s.client.completions.create({ model: 'tiny', prompt: 'Queued', max_tokens: 3, temperature: 0, stream: true }); // waits for the slot
      expect(s.served.engine.waiting).toBe(1);
      const err = (await s.client.completions.create({ model: 'tiny', prompt: 'One too many', max_tokens: 3 }).catch((e: unknown) => e)) as InstanceType<typeof OpenAI.APIError>;
      expect(err).toBeInstanceOf(OpenAI.RateLimitError);
      expect(err.status).toBe(429);
      expect(err.headers?.get('retry-after')).toBe('1');
      expect(err.code).toBe('queue_full');
      expect(err.message).toMatch(/--max-queue/);
      const streamErr = await s.client.completions.create({ model: 'tiny', prompt: 'One too many', max_tokens: 3, stream: true }).catch((e: unknown) => e);
      expect(streamErr).toBeInstanceOf(OpenAI.RateLimitError); // refused with its status, not inside an event stream
      first.controller.abort();
      const rest = await drain(second);
      expect(rest.finish).toBe('length');
      const after = await s.client.completions.create({ model: 'tiny', prompt: 'Now there is room', max_tokens: 3 });
      expect(after.choices[0].finish_reason).toBe('length');
    } finally {
      await s.close();
    }
  });

  it('a client that disconnects mid-stream frees its slot within a step, and the next request runs', async () => {
    const s = await startServer(dir, { parallel: 1 });
    try {
      const stream = await s.client.completions.create({ model: 'tiny', prompt: 'Going away', max_tokens: 240, temperature: 0, stream: true });
      const it = stream[Symbol.asyncIterator]();
      await it.next();
      expect(s.served.engine.running).toBe(1);
      stream.controller.abort();
      expect(await until(() => s.served.engine.running === 0, 2000)).toBe(true);
      const finished = await s.server.metrics.finished.get();
      expect(finished.values.find((v) => v.labels.finish_reason === 'abort')?.value).toBe(1);
      const generated = (await s.server.metrics.generationTokens.get()).values[0].value;
      expect(generated).toBeLessThan(120); // stopped long before its 240 tokens
      const next = await s.client.completions.create({ model: 'tiny', prompt: 'Next', max_tokens: 5, temperature: 0 });
      expect(next.usage!.completion_tokens).toBe(5);
      // a non-streamed request whose client gives up is aborted too
      const ac = new AbortController();
      const gone = s.client.completions.create({ model: 'tiny', prompt: 'Impatient', max_tokens: 240, temperature: 0 }, { signal: ac.signal }).catch((e: unknown) => e);
      expect(await until(() => s.served.engine.running === 1, 2000)).toBe(true);
      ac.abort();
      expect(await gone).toBeInstanceOf(OpenAI.APIUserAbortError);
      expect(await until(() => s.served.engine.running === 0, 2000)).toBe(true);
    } finally {
      await s.close();
    }
  });
});
