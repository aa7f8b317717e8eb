// The customer-service example's dataset and quality check, without training anything: the dataset
// is the same on every run, large enough, consistent (every amount and period an answer states is
// one of the shop's facts; each held-out question's fact is in its intent's answer), and no held-out
// or feedback question is trained on; evaluate.js's checker accepts a right answer and refuses a wrong one.
import { describe, it, expect, beforeAll } from 'vitest';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { tempDir } from '../helpers/tmp.js';

const folder = join(process.cwd(), 'examples', 'customer-service');
// Imported by a computed path: these are the example's plain JavaScript files, as a user runs them.
const load = (file: string) => import(join(folder, file));

type Example = { messages: { role: string; content: string }[]; intent: string; expect?: string; augmented?: boolean };
type Intent = { id: string; answer: string; expect: string; train: string[]; heldout: string[]; feedback: string[] };
type Dataset = { intents: Intent[]; train: Example[]; augmented: Example[]; heldout: Example[]; feedback: Example[] };

describe('examples/customer-service', () => {
  let mk: Record<string, any>, ds: Dataset;
  beforeAll(async () => {
    mk = await load('make-dataset.js');
    ds = mk.buildDataset();
  });
  const question = (e: Example) => e.messages.find((m) => m.role === 'user')!.content;
  const answer = (e: Example) => e.messages.find((m) => m.role === 'assistant')!.content;

  it('writes the same files on every run: ≥ 60 intents, ≥ 300 training pairs, held-out and feedback phrasings of every intent', async () => {
    const [a, b] = [await tempDir('nabla-cs-a-'), await tempDir('nabla-cs-b-')];
    const counts = mk.writeDataset(a);
    mk.writeDataset(b);
    for (const f of ['train.jsonl', 'train-augmented.jsonl', 'heldout.jsonl', 'feedback.jsonl', 'corpus.txt']) {
      expect(await readFile(join(a, f), 'utf8'), f).toBe(await readFile(join(b, f), 'utf8'));
    }
    expect(counts.intents).toBeGreaterThanOrEqual(60);
    expect(counts.train).toBeGreaterThanOrEqual(300);
    const lines = (await readFile(join(a, 'heldout.jsonl'), 'utf8')).trim().split('\n');
    expect(lines.length).toBe(counts.heldout);
    const row = JSON.parse(lines[0]);
    expect(row.messages.map((m: { role: string }) => m.role)).toEqual(['user', 'assistant']);
    expect(typeof row.expect).toBe('string');
    const trained = new Set(ds.train.map((e) => e.intent));
    for (const set of [ds.heldout, ds.feedback]) {
      expect(new Set(set.map((e) => e.intent))).toEqual(trained); // every intent, and only those trained on
    }
    for (const i of ds.intents) expect(i.train.length, i.id).toBeGreaterThanOrEqual(4);
  });

  it('is consistent: one answer per intent, the expected fact in it, and every amount or period one of the shop facts', () => {
    const byIntent = new Map(ds.intents.map((i) => [i.id, i]));
    for (const e of [...ds.train, ...ds.augmented, ...ds.heldout, ...ds.feedback]) expect(answer(e)).toBe(byIntent.get(e.intent)!.answer);
    for (const e of [...ds.heldout, ...ds.feedback]) expect(answer(e).toLowerCase(), e.intent).toContain(e.expect!.toLowerCase());
    const facts: string[] = Object.values(mk.FACTS);
    const quantities = /\$\d+(?:\.\d\d)?|\d+(?: to \d+)? (?:business )?days|\d+ (?:hours?|minutes|units)|\d+%|\d+-year|\d+ points?|\d+ countries/g;
    for (const i of ds.intents) {
      for (const q of i.answer.match(quantities) ?? [])
        expect(
          facts.some((f) => f.includes(q)),
          `${i.id}: "${q}" is in no fact`,
        ).toBe(true);
    }
    // two answers that speak of the same thing say the same: e.g. the return window is 30 days wherever it appears
    const returnAnswers = ds.intents.filter((i) => /\breturn(ed)? (most items|within)/.test(i.answer));
    expect(returnAnswers.length).toBeGreaterThan(1);
    for (const i of returnAnswers) expect(i.answer).toContain(mk.FACTS.returnWindow);
  });

  it('trains on no held-out or feedback question (nor the corpus), and the two sets do not overlap', async () => {
    const norm = mk.normalize as (q: string) => string;
    const trained = new Set([...ds.train, ...ds.augmented].map((e) => norm(question(e))));
    const held = ds.heldout.map((e) => norm(question(e))),
      fb = ds.feedback.map((e) => norm(question(e)));
    for (const q of [...held, ...fb]) expect(trained.has(q), q).toBe(false);
    expect(held.filter((q) => fb.includes(q))).toEqual([]);
    expect(new Set(held).size).toBe(held.length);
    const asked = new Set(
      (mk.corpusText(ds) as string)
        .split('\n')
        .filter((l) => l.startsWith('User: '))
        .map((l) => norm(l.slice(6))),
    );
    expect(asked.size).toBeGreaterThanOrEqual(300);
    for (const q of [...held, ...fb]) expect(asked.has(q), q).toBe(false);
  });

  it('augments deterministically with the synonyms, never returning the question itself', () => {
    const q = 'How much is standard shipping?';
    const v = mk.augmentQuestion(q, 4);
    expect(v).toEqual(mk.augmentQuestion(q, 4));
    expect(v.length).toBe(4);
    expect(v).not.toContain(q);
  });

  it("evaluate.js's checker: the expected fact must appear, case and spacing aside", async () => {
    const { containsFact, readQuestions } = await load('evaluate.js');
    expect(containsFact('Standard shipping takes 3 to 5  Business Days and costs $4.99.', '3 to 5 business days')).toBe(true);
    expect(containsFact('You can return most items within 30 days of delivery.', '30 days')).toBe(true);
    expect(containsFact('Standard shipping takes 1 to 2 business days.', '3 to 5 business days')).toBe(false);
    expect(containsFact('We ship to 30 countries.', '$19.99')).toBe(false);
    expect(containsFact('', '30 days')).toBe(false);
    expect(containsFact('anything', '')).toBe(false);
    const dir = await tempDir('nabla-cs-q-');
    mk.writeDataset(dir);
    const qs = readQuestions(join(dir, 'heldout.jsonl'));
    expect(qs.length).toBe(ds.heldout.length);
    expect(qs[0]).toEqual({ question: question(ds.heldout[0]), expect: ds.heldout[0].expect, intent: ds.heldout[0].intent, reference: answer(ds.heldout[0]) });
  });
});
