// The BPE merge loop shared by the byte-level BPETokenizer and the tokenizer.json BPE model:
// tokenizers' Word::merge_all. Candidate merges sit in a min-heap keyed by (rank, position); the
// lowest rank merges first, leftmost on ties, and a candidate whose pair has changed since it was
// queued is skipped.

/** Pair key = left id · 2^26 + right id (ids < 2^26). */
export const PAIR = 2 ** 26;

/** A min-heap of non-negative numbers (merge candidates packed as rank · n + position). */
class NumberHeap {
  private a: number[] = [];
  get size(): number {
    return this.a.length;
  }
  push(v: number): void {
    const a = this.a;
    let i = a.push(v) - 1;
    while (i > 0) {
      const p = (i - 1) >> 1;
      if (a[p] <= v) break;
      a[i] = a[p];
      i = p;
    }
    a[i] = v;
  }
  pop(): number {
    const a = this.a;
    const top = a[0];
    const last = a.pop()!;
    if (a.length > 0) {
      let i = 0;
      const n = a.length;
      for (;;) {
        let c = 2 * i + 1;
        if (c >= n) break;
        if (c + 1 < n && a[c + 1] < a[c]) c++;
        if (a[c] >= last) break;
        a[i] = a[c];
        i = c;
      }
      a[i] = last;
    }
    return top;
  }
}

/**
 * Merge the symbols `sym` (token ids) in place as far as the merges allow, and return them. `index`
 * maps a pair key to its rank, `mergeNew[rank]` is the merged id. When `lens` is given (the length
 * of each symbol in the text), the merged lengths are returned in it.
 */
export function mergeSymbols(sym: number[], index: ReadonlyMap<number, number>, mergeNew: Int32Array, lens?: number[]): number[] {
  const n = sym.length;
  if (n < 2) return sym;
  const next = new Int32Array(n),
    prev = new Int32Array(n),
    alive = new Uint8Array(n).fill(1);
  for (let i = 0; i < n; i++) {
    next[i] = i + 1 < n ? i + 1 : -1;
    prev[i] = i - 1;
  }
  const heap = new NumberHeap();
  for (let i = 0; i + 1 < n; i++) {
    const r = index.get(sym[i] * PAIR + sym[i + 1]);
    if (r !== undefined) heap.push(r * n + i);
  }
  while (heap.size > 0) {
    const top = heap.pop();
    const pos = top % n,
      rank = (top - pos) / n;
    if (!alive[pos]) continue;
    const right = next[pos];
    if (right < 0) continue;
    // A stale candidate: the pair at pos no longer merges into the same token.
    const now = index.get(sym[pos] * PAIR + sym[right]);
    if (now === undefined || mergeNew[now] !== mergeNew[rank]) continue;
    sym[pos] = mergeNew[rank];
    if (lens) lens[pos] += lens[right];
    alive[right] = 0;
    const after = next[right];
    next[pos] = after;
    if (after >= 0) prev[after] = pos;
    const before = prev[pos];
    if (before >= 0) {
      const r = index.get(sym[before] * PAIR + sym[pos]);
      if (r !== undefined) heap.push(r * n + before);
    }
    if (after >= 0) {
      const r = index.get(sym[pos] * PAIR + sym[after]);
      if (r !== undefined) heap.push(r * n + pos);
    }
  }
  const out: number[] = [];
  const outLens: number[] = [];
  for (let i = 0; i >= 0; i = next[i]) {
    out.push(sym[i]);
    if (lens) outLens.push(lens[i]);
  }
  if (lens) {
    lens.length = 0;
    lens.push(...outLens);
  }
  return out;
}
