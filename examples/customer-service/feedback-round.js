// The feedback round of the customer-service example, done as a person on the chat page does it,
// through the server's conversation routes (plain fetch): each question of the feedback set is asked
// in a new conversation; a right answer gets a thumbs up, a wrong one a thumbs down and a correction
// (the answer it should have given). `nabla feedback export` then turns the liked answers and the
// corrections into training examples for the next fine-tuning.
//
// Run (against `nabla serve MODEL --data DIR`):
//   node examples/customer-service/feedback-round.js --url http://127.0.0.1:8080
//        [--file runs/cs/data/feedback.jsonl] [--api-key KEY] [--concurrency 4] [--json]
// The feedback set holds other phrasings than the held-out set, so the held-out figure measured
// after retraining is still on questions the model never trained on.

import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { containsFact, readQuestions } from './evaluate.js';

/** A JSON call to the server; an error answer throws with the server's message. */
/** @param {string} base @param {string | undefined} apiKey @param {string} method @param {string} path @param {object} [body] */
async function call(base, apiKey, method, path, body) {
  const res = await fetch(`${base}${path}`, {
    method,
    headers: { 'content-type': 'application/json', ...(apiKey ? { authorization: `Bearer ${apiKey}` } : {}) },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await res.text();
  if (!res.ok) throw new Error(`${method} ${path}: HTTP ${res.status}: ${text}`);
  return JSON.parse(text);
}

/**
 * Ask each question in its own conversation, then rate the answer: up when it states the expected
 * fact, else down with `correction` (the right answer) as the better answer.
 * @param {{url: string, apiKey?: string, questions: {question: string, expect: string, correction: string}[], concurrency?: number, maxTokens?: number}} o
 */
export async function feedbackRound({ url, apiKey, questions, concurrency = 4, maxTokens = 80 }) {
  const base = url.replace(/\/+$/, '').replace(/\/v1$/, '');
  const results = new Array(questions.length);
  let next = 0;
  const worker = async () => {
    while (next < questions.length) {
      const i = next++;
      const q = questions[i];
      const conv = await call(base, apiKey, 'POST', '/v1/conversations', { title: q.question });
      const { assistant } = await call(base, apiKey, 'POST', `/v1/conversations/${conv.id}/messages`, { content: q.question, temperature: 0, max_tokens: maxTokens });
      const right = containsFact(assistant.content, q.expect);
      const fb = right ? { rating: 'up' } : { rating: 'down', correction: q.correction };
      await call(base, apiKey, 'POST', `/v1/messages/${assistant.id}/feedback`, fb);
      results[i] = { ...q, conversation: conv.id, message: assistant.id, answer: assistant.content, right };
    }
  };
  const t0 = performance.now();
  await Promise.all(Array.from({ length: Math.min(concurrency, questions.length) }, worker));
  const right = results.filter((r) => r.right).length;
  return { right, total: results.length, liked: right, corrected: results.length - right, seconds: (performance.now() - t0) / 1000, results };
}

if (process.argv[1] && import.meta.url === pathToFileURL(resolve(process.argv[1])).href) {
  const argv = process.argv.slice(2);
  /** @type {<T extends string | undefined>(name: string, dflt: T) => string | T} */
  const flag = (name, dflt) => {
    const i = argv.indexOf(name);
    if (i < 0) return dflt;
    if (argv[i + 1] === undefined) throw new Error(`${name} needs a value`);
    return argv[i + 1];
  };
  const file = flag('--file', 'runs/cs/data/feedback.jsonl');
  // The correction a person writes is the answer the shop gives to that question (the line's reference answer).
  const questions = readQuestions(file).map((q, i) => {
    if (!q.reference) throw new Error(`${file} question ${i + 1}: needs an assistant message (the correction to give)`);
    return { ...q, correction: q.reference };
  });
  const r = await feedbackRound({
    url: flag('--url', 'http://127.0.0.1:8080'),
    apiKey: flag('--api-key', process.env.NABLA_API_KEY),
    questions,
    concurrency: Number(flag('--concurrency', '4')),
    maxTokens: Number(flag('--max-tokens', '80')),
  });
  if (argv.includes('--json')) {
    const { results: _all, ...summary } = r;
    console.log(JSON.stringify({ file, ...summary }));
  } else {
    for (const x of r.results.filter((x) => !x.right)) console.log(`👎 ${x.question}\n    answered: ${x.answer}\n    corrected to: ${x.correction}`);
    console.log(`${r.total} questions asked: ${r.liked} answers liked, ${r.corrected} disliked and corrected (${r.seconds.toFixed(1)} s)`);
  }
}
