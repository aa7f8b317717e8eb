// BPE training as Hugging Face's BpeTrainer does it (models/bpe/trainer.rs): count the adjacent
// symbol pairs of every distinct word once, keep for each pair the words it occurs in, and after
// each merge update only those words and the counts of the pairs around each merge. A max-heap of
// candidates is updated lazily: a popped candidate whose count has changed is pushed back with the
// current count, so the pair merged is always the one with the highest count, ties going to the
// smallest (left id, right id).

/**
 * Options of {@link trainBPE}: the final vocabulary size (specials and alphabet included), the
 * least count a merged pair must have, the special tokens and the alphabet.
 */
export interface TrainBPEOptions {
  vocabSize: number;
  minFrequency: number;
  /** Tokens that get the first ids and take no part in merges. */
  specialTokens: readonly string[];
  /** Symbols always in the vocabulary (the 256 byte characters for a byte-level BPE). */
  alphabet: readonly string[];
}

/** What {@link trainBPE} learned: the vocabulary by id and the merges. */
export interface TrainBPEResult {
  /** id → token: special tokens, the alphabet in code-point order, then one token per new merge. */
  tokens: string[];
  /** Merges in rank order, as (left id, right id). */
  merges: [number, number][];
}

const PAIR = 2 ** 26;

interface Candidate {
  key: number; // left · 2^26 + right
  count: number;
  pos: Set<number>; // the words the pair occurs in
}

/** Max-heap of candidates: larger count first, then smaller pair key (HF's `Merge` ordering). */
class CandidateHeap {
  private a: Candidate[] = [];
  private static above(x: Candidate, y: Candidate): boolean {
    return x.count > y.count || (x.count === y.count && x.key < y.key);
  }
  push(c: Candidate): void {
    const a = this.a;
    let i = a.push(c) - 1;
    while (i > 0) {
      const p = (i - 1) >> 1;
      if (!CandidateHeap.above(c, a[p])) break;
      a[i] = a[p];
      i = p;
    }
    a[i] = c;
  }
  pop(): Candidate | undefined {
    const a = this.a;
    if (a.length === 0) return undefined;
    const top = a[0];
    const last = a.pop()!;
    if (a.length > 0) {
      let i = 0;
      for (;;) {
        let c = 2 * i + 1;
        if (c >= a.length) break;
        if (c + 1 < a.length && CandidateHeap.above(a[c + 1], a[c])) c++;
        if (!CandidateHeap.above(a[c], last)) break;
        a[i] = a[c];
        i = c;
      }
      a[i] = last;
    }
    return top;
  }
}

const byCodePoint = (x: string, y: string) => x.codePointAt(0)! - y.codePointAt(0)!;

/**
 * Learn merges from word counts (words are strings of alphabet symbols; for a byte-level BPE, the
 * byte-level form of each pre-token).
 */
export function trainBPE(wordCounts: ReadonlyMap<string, number>, o: TrainBPEOptions): TrainBPEResult {
  const tokens: string[] = [];
  const ids = new Map<string, number>();
  const add = (t: string): number => {
    let id = ids.get(t);
    if (id === undefined) {
      id = tokens.length;
      ids.set(t, id);
      tokens.push(t);
    }
    return id;
  };
  for (const s of o.specialTokens) add(s);
  const alphabet = new Set(o.alphabet);
  for (const w of wordCounts.keys()) for (const c of w) alphabet.add(c);
  for (const c of [...alphabet].sort(byCodePoint)) add(c);

  const words: number[][] = [];
  const counts: number[] = [];
  for (const [w, c] of wordCounts) {
    words.push(Array.from(w, (ch) => ids.get(ch)!));
    counts.push(c);
  }

  const pairCounts = new Map<number, number>();
  const where = new Map<number, Set<number>>();
  words.forEach((w, wi) => {
    for (let i = 0; i + 1 < w.length; i++) {
      const k = w[i] * PAIR + w[i + 1];
      pairCounts.set(k, (pairCounts.get(k) ?? 0) + counts[wi]);
      let s = where.get(k);
      if (!s) where.set(k, (s = new Set()));
      s.add(wi);
    }
  });
  const heap = new CandidateHeap();
  for (const [key, pos] of where) {
    const count = pairCounts.get(key)!;
    if (count > 0) heap.push({ key, count, pos });
  }

  const merges: [number, number][] = [];
  for (;;) {
    if (tokens.length >= o.vocabSize) break;
    const top = heap.pop();
    if (!top) break;
    const current = pairCounts.get(top.key)!;
    if (top.count !== current) {
      top.count = current;
      heap.push(top);
      continue;
    }
    if (top.count < 1 || o.minFrequency > top.count) break;
    const a = Math.floor(top.key / PAIR),
      b = top.key % PAIR;
    const merged = add(tokens[a] + tokens[b]);
    merges.push([a, b]);

    const updated = new Map<number, Set<number>>();
    for (const wi of top.pos) {
      const w = words[wi],
        n = w.length,
        c = counts[wi];
      const change = (k: number, d: number) => {
        pairCounts.set(k, (pairCounts.get(k) ?? 0) + d * c);
        if (d > 0) {
          let s = updated.get(k);
          if (!s) updated.set(k, (s = new Set()));
          s.add(wi);
        }
      };
      // Merge left to right in place (Word::merge): each occurrence removes the pairs it breaks
      // (previous, a) and (b, next) and adds (previous, merged) and (merged, next).
      let out = 0;
      for (let i = 0; i < n; ) {
        if (w[i] === a && i + 1 < n && w[i + 1] === b) {
          if (out > 0) {
            change(w[out - 1] * PAIR + a, -1);
            change(w[out - 1] * PAIR + merged, 1);
          }
          if (i + 2 < n) {
            change(b * PAIR + w[i + 2], -1);
            change(merged * PAIR + w[i + 2], 1);
          }
          w[out++] = merged;
          i += 2;
        } else {
          w[out++] = w[i++];
        }
      }
      w.length = out;
    }
    for (const [key, pos] of updated) {
      const count = pairCounts.get(key)!;
      if (count > 0) heap.push({ key, count, pos });
    }
  }
  return { tokens, merges };
}
