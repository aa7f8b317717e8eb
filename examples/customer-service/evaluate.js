// The quality check of the customer-service example: ask a running `nabla serve` every held-out
// question through OpenAI's own client, greedy (temperature 0), and count the answers that state the
// expected fact (a short string such as "30 days" or "$4.99", compared without regard to case or
// spacing). Prints the score and each failure; --json prints one object instead.
//
// Run: node examples/customer-service/evaluate.js --base-url http://127.0.0.1:8080/v1
//        [--file runs/cs/data/heldout.jsonl] [--api-key KEY] [--concurrency 4] [--max-tokens 80] [--json]
// The questions are chat JSONL lines ({"messages": [{"role": "user", ...}, ...], "expect": ...}), as
// make-dataset.js writes them; only the user's message is sent.

import OpenAI from 'openai';
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';

/** Text compared for the fact: lowercase, runs of spaces as one. */
const fold = (/** @type {string} */ s) => s.toLowerCase().replace(/\s+/g, ' ').trim();

/**
 * Whether `answer` states `expect`: the expected string appears in it, case and spacing aside.
 * @example containsFact('Returns are accepted within 30 days.', '30 days') === true
 */
export function containsFact(/** @type {unknown} */ answer, /** @type {unknown} */ expect) {
  if (typeof answer !== 'string' || typeof expect !== 'string' || !expect.trim()) return false;
  return fold(answer).includes(fold(expect));
}

/** The questions of a chat JSONL file with `expect`: [{question, expect, intent, reference}] (reference: the line's assistant answer, or null). */
/** @typedef {{question: string, expect: string, intent: string | null, reference: string | null}} Question */
/** @returns {Question[]} */
export function readQuestions(/** @type {string} */ file) {
  return readFileSync(file, 'utf8')
    .split('\n')
    .filter((l) => l.trim())
    .map((line, i) => {
      const r = JSON.parse(line);
      const q = r.messages?.find((/** @type {{role: string, content: string}} */ m) => m.role === 'user')?.content;
      if (typeof q !== 'string' || typeof r.expect !== 'string') throw new Error(`${file} line ${i + 1}: needs a user message and an "expect" string`);
      const reference = r.messages.find((/** @type {{role: string, content: string}} */ m) => m.role === 'assistant')?.content ?? null;
      return { question: q, expect: r.expect, intent: r.intent ?? null, reference };
    });
}

/**
 * Ask every question (a few at a time: the server batches them) and score the answers.
 * @param {{baseURL: string, apiKey?: string, questions: Question[], concurrency?: number, maxTokens?: number}} o
 */
export async function evaluate({ baseURL, apiKey, questions, concurrency = 4, maxTokens = 80 }) {
  const client = new OpenAI({ baseURL, apiKey: apiKey ?? process.env.NABLA_API_KEY ?? 'none' });
  const model = (await client.models.list()).data[0].id;
  /** @type {(Question & {answer: string, right: boolean})[]} */
  const answers = new Array(questions.length);
  const t0 = performance.now();
  let next = 0;
  const worker = async () => {
    while (next < questions.length) {
      const i = next++;
      const q = questions[i];
      const r = await client.chat.completions.create({ model, messages: [{ role: 'user', content: q.question }], temperature: 0, max_tokens: maxTokens });
      const answer = r.choices[0].message.content ?? '';
      answers[i] = { ...q, answer: answer.trim(), right: containsFact(answer, q.expect) };
    }
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, questions.length) }, worker));
  const right = answers.filter((a) => a.right).length;
  return { model, score: right / questions.length, right, total: questions.length, seconds: (performance.now() - t0) / 1000, failures: answers.filter((a) => !a.right), answers };
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
  const baseURL = flag('--base-url', 'http://127.0.0.1:8080/v1');
  const file = flag('--file', 'runs/cs/data/heldout.jsonl');
  const r = await evaluate({
    baseURL,
    apiKey: flag('--api-key', undefined),
    questions: readQuestions(file),
    concurrency: Number(flag('--concurrency', '4')),
    maxTokens: Number(flag('--max-tokens', '80')),
  });
  if (argv.includes('--json')) {
    const { answers: _all, ...summary } = r;
    console.log(JSON.stringify({ file, ...summary }));
  } else {
    for (const f of r.failures) console.log(`✗ ${f.question}\n    expected "${f.expect}", got: ${f.answer}`);
    console.log(`${r.model} on ${file}: ${r.right}/${r.total} answers state the expected fact (${(100 * r.score).toFixed(1)}%), ${r.seconds.toFixed(1)} s`);
  }
}
