// A normalized string that remembers where each of its characters came from in the original text,
// as Hugging Face `tokenizers` keeps it (tokenizer/normalizer.rs, NormalizedString): normalizers,
// pre-tokenizers and the model change or cut it, and every token's offsets map back to the text.
// The unit is the code point (tokenizers counts UTF-8 bytes; a character's bytes always share one
// alignment there, so the two agree); alignments are [start, end) in UTF-16 units of the input,
// what `String.prototype.slice` takes.

/** How a Split keeps the delimiters it matched (tokenizers' SplitDelimiterBehavior). */
export type SplitBehavior = 'Removed' | 'Isolated' | 'MergedWithPrevious' | 'MergedWithNext' | 'Contiguous';

/** A run of characters: [start, end) in code points, and whether it is a match of the pattern. */
export type Match = [start: number, end: number, isMatch: boolean];

/** One new character and how it relates to the old ones (tokenizers' `transform` protocol). */
export type Change = [char: string, change: number];

export class NormalizedString {
  /** The normalized text, one code point per entry. */
  chars: string[];
  /** For each character, [start, end) in the original text (2 numbers per character). */
  align: number[];
  /** The span of the original text this string stands for. */
  readonly origStart: number;
  readonly origEnd: number;

  constructor(chars: string[], align: number[], origStart: number, origEnd: number) {
    this.chars = chars;
    this.align = align;
    this.origStart = origStart;
    this.origEnd = origEnd;
  }

  /** `text.slice(start, end)` of the original text as a string to normalize. */
  static fromText(text: string, start = 0, end = text.length): NormalizedString {
    const chars: string[] = [];
    const align: number[] = [];
    for (let i = start; i < end; ) {
      const cp = text.codePointAt(i)!;
      const n = cp > 0xffff ? 2 : 1;
      chars.push(text.slice(i, i + n));
      align.push(i, i + n);
      i += n;
    }
    return new NormalizedString(chars, align, start, end);
  }

  get length(): number {
    return this.chars.length;
  }

  get text(): string {
    return this.chars.join('');
  }

  /** Original [start, end) of the normalized characters [s, e) (tokenizers' convert_offsets). */
  originalSpan(s: number, e: number): [number, number] {
    if (s >= e) {
      const at = s < this.chars.length ? this.align[2 * s] : this.origEnd;
      return [at, at];
    }
    return [this.align[2 * s], this.align[2 * e - 1]];
  }

  /** The characters [s, e) as their own NormalizedString. */
  slice(s: number, e: number): NormalizedString {
    const [os, oe] = this.originalSpan(s, e);
    return new NormalizedString(this.chars.slice(s, e), this.align.slice(2 * s, 2 * e), os, oe);
  }

  /**
   * Replace the characters [from, to) by `dest`: each new character with change 0 replaces the next
   * old one (and takes its alignment), > 0 is inserted (with the alignment of the old character
   * before it), −n replaces one and removes the n after it. `initialOffset` old characters at the
   * start are removed. (tokenizers' transform_range.)
   */
  transformRange(from: number, to: number, dest: Iterable<Change>, initialOffset = 0): void {
    const old = this.align;
    const chars: string[] = [];
    const align: number[] = [];
    let offset = from + initialOffset;
    for (const [c, change] of dest) {
      let a0: number, a1: number;
      if (change > 0) {
        if (offset < 1) a0 = a1 = this.origStart;
        else {
          a0 = old[2 * (offset - 1)];
          a1 = old[2 * (offset - 1) + 1];
        }
      } else {
        a0 = old[2 * offset];
        a1 = old[2 * offset + 1];
        offset += 1;
        if (change < 0) offset += -change;
      }
      chars.push(c);
      align.push(a0, a1);
    }
    // concat, not splice(...): a spread of a long text overflows the stack.
    this.chars = this.chars.slice(0, from).concat(chars, this.chars.slice(to));
    this.align = this.align.slice(0, 2 * from).concat(align, this.align.slice(2 * to));
  }

  transform(dest: Iterable<Change>, initialOffset = 0): void {
    this.transformRange(0, this.chars.length, dest, initialOffset);
  }

  /** Keep the characters for which `keep` is true. */
  filter(keep: (c: string) => boolean): void {
    const out: Change[] = [];
    let removed = 0;
    let removedStart = 0;
    let last: string | null = null;
    for (const c of this.chars) {
      if (keep(c)) {
        if (last !== null) out.push([last, -removed]);
        else removedStart = removed;
        last = c;
        removed = 0;
      } else removed++;
    }
    if (last !== null) out.push([last, -removed]);
    this.transform(out, last === null ? this.chars.length : removedStart);
  }

  /** Replace each character by one character. */
  map(f: (c: string) => string): void {
    for (let i = 0; i < this.chars.length; i++) this.chars[i] = f(this.chars[i]);
  }

  /** Replace each character by a string of characters (the first replaces it, the rest are inserted). */
  flatMap(f: (c: string) => string): void {
    const out: Change[] = [];
    for (const c of this.chars) {
      let i = 0;
      for (const d of f(c)) out.push([d, i++ > 0 ? 1 : 0]);
      if (i === 0) throw new Error(`NormalizedString.flatMap: ${JSON.stringify(c)} mapped to nothing`);
    }
    this.transform(out);
  }

  /** Prepend `s` (its characters share the alignment of the first character). No-op when empty. */
  prepend(s: string): void {
    if (this.chars.length === 0 || s.length === 0) return;
    const out: Change[] = [...s].map((c, i): Change => [c, i === 0 ? 0 : 1]);
    out.push([this.chars[0], 1]);
    this.transformRange(0, 1, out);
  }

  /** Replace each run that `find` reports as a match by `content` (tokenizers' replace). */
  replace(matches: Match[], content: string): void {
    const contentChars = [...content];
    const chars: string[] = [];
    const align: number[] = [];
    let last = 0;
    for (const [s, e, isMatch] of matches) {
      if (!isMatch) continue;
      for (let i = last; i < s; i++) {
        chars.push(this.chars[i]);
        align.push(this.align[2 * i], this.align[2 * i + 1]);
      }
      // Every new character is an insertion after the match: it takes the alignment of the
      // match's last character (or the string's start when the match starts it and is empty).
      for (const c of contentChars) {
        chars.push(c);
        if (e < 1) align.push(this.origStart, this.origStart);
        else align.push(this.align[2 * (e - 1)], this.align[2 * (e - 1) + 1]);
      }
      last = e;
    }
    for (let i = last; i < this.chars.length; i++) {
      chars.push(this.chars[i]);
      align.push(this.align[2 * i], this.align[2 * i + 1]);
    }
    this.chars = chars;
    this.align = align;
  }

  /** Remove leading and/or trailing White_Space characters. */
  strip(left: boolean, right: boolean): void {
    const n = this.chars.length;
    let lead = 0;
    if (left) while (lead < n && isWhitespace(this.chars[lead])) lead++;
    let trail = 0;
    if (right) while (trail < n && isWhitespace(this.chars[n - 1 - trail])) trail++;
    if (lead === 0 && trail === 0) return;
    const out: Change[] = [];
    for (let i = 0; i < n; i++) {
      if (i < lead || i >= n - trail) continue;
      out.push([this.chars[i], i === n - trail - 1 ? -trail : 0]);
    }
    this.transform(out, lead);
  }

  /** Split into pieces at the matches, keeping or dropping the delimiters as `behavior` says. */
  split(matches: Match[], behavior: SplitBehavior): NormalizedString[] {
    let spans: [number, number, boolean][]; // [start, end, remove]
    switch (behavior) {
      case 'Isolated':
        spans = matches.map(([s, e]) => [s, e, false]);
        break;
      case 'Removed':
        spans = matches.map(([s, e, m]) => [s, e, m]);
        break;
      case 'Contiguous': {
        spans = [];
        let prev = false;
        for (const [s, e, m] of matches) {
          if (m === prev && spans.length) spans[spans.length - 1][1] = e;
          else spans.push([s, e, false]);
          prev = m;
        }
        break;
      }
      case 'MergedWithPrevious': {
        spans = [];
        let prev = false;
        for (const [s, e, m] of matches) {
          if (m && !prev && spans.length) spans[spans.length - 1][1] = e;
          else spans.push([s, e, false]);
          prev = m;
        }
        break;
      }
      case 'MergedWithNext': {
        spans = [];
        let prev = false;
        for (let i = matches.length - 1; i >= 0; i--) {
          const [s, e, m] = matches[i];
          if (m && !prev && spans.length) spans[spans.length - 1][0] = s;
          else spans.push([s, e, false]);
          prev = m;
        }
        spans.reverse();
        break;
      }
    }
    const out: NormalizedString[] = [];
    for (const [s, e, remove] of spans) if (!remove) out.push(this.slice(s, e));
    return out;
  }
}

/** Unicode White_Space (Rust's char::is_whitespace). */
const WHITESPACE = /^\p{White_Space}$/u;
export function isWhitespace(c: string): boolean {
  return WHITESPACE.test(c);
}

/** Runs of characters where `pred` holds (each matching character alone) and the runs between. */
export function findChars(chars: readonly string[], pred: (c: string) => boolean): Match[] {
  if (chars.length === 0) return [[0, 0, false]];
  const out: Match[] = [];
  let last = 0;
  for (let i = 0; i < chars.length; i++) {
    if (pred(chars[i])) {
      if (last < i) out.push([last, i, false]);
      out.push([i, i + 1, true]);
      last = i + 1;
    }
  }
  if (last < chars.length) out.push([last, chars.length, false]);
  return out;
}

/** The matches of a global regex in the characters, in code point indices, with the runs between. */
export function findRegex(chars: readonly string[], re: RegExp): Match[] {
  if (chars.length === 0) return [[0, 0, false]];
  const text = chars.join('');
  // UTF-16 index → code point index (only where a character starts).
  let toChar: Int32Array | null = null;
  if (text.length !== chars.length) {
    toChar = new Int32Array(text.length + 1);
    let u = 0;
    for (let i = 0; i < chars.length; i++) {
      toChar[u] = i;
      u += chars[i].length;
    }
    toChar[u] = chars.length;
  }
  const ci = (u: number) => (toChar ? toChar[u] : u);
  const out: Match[] = [];
  let prev = 0;
  re.lastIndex = 0;
  for (let m = re.exec(text); m !== null; m = re.exec(text)) {
    if (m[0].length === 0) {
      // An empty match: Rust's regex and Oniguruma step over it; it adds no split.
      re.lastIndex = m.index + (text.codePointAt(m.index)! > 0xffff ? 2 : 1);
      continue;
    }
    const s = ci(m.index);
    const e = ci(m.index + m[0].length);
    if (prev !== s) out.push([prev, s, false]);
    out.push([s, e, true]);
    prev = e;
  }
  if (prev !== chars.length) out.push([prev, chars.length, false]);
  return out;
}

/** The matches of a literal string (non-overlapping, left to right). */
export function findString(chars: readonly string[], needle: string): Match[] {
  if (needle.length === 0) return [[0, chars.length, false]];
  return findRegex(chars, new RegExp(needle.replace(/[.*+?^${}()|[\]\\/-]/g, '\\$&'), 'gu'));
}
