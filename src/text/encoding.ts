// What a tokenizer gives for one input (or pair of inputs) besides the ids: the token strings, type
// ids, attention and special-token masks, offsets into the text, which sequence each token came
// from, and the windows that truncation with a stride cut off (tokenizers' Encoding, with its
// merge, truncate and pad, and utils/truncation.rs).

/**
 * One encoded input, as tokenizers' Encoding (and transformers' BatchEncoding for one row).
 * @example
 *   const e = tokenizer.encodePair('Who?', 'Ada wrote it.');
 *   e.ids; e.typeIds; e.attentionMask; e.sequenceIds   // [null, 0, 0, null, 1, 1, 1, 1, null]
 */
export interface Encoding {
  ids: number[];
  /** The token strings (the model's form: "##ing", "▁the", "Ġthe"). */
  tokens: string[];
  /** Segment ids: 0 for the first text, 1 for the pair (as the post-processor's template says). */
  typeIds: number[];
  /** 1 for tokens, 0 for padding. */
  attentionMask: number[];
  /** 1 for tokens the post-processor added ([CLS], [SEP], <s>) and padding, 0 for the text's. */
  specialTokensMask: number[];
  /** [start, end) of each token in its text, in UTF-16 code units ([0, 0] for added special tokens). */
  offsets: [number, number][];
  /** Which input each token came from: 0 (text), 1 (pair), or null (template tokens, padding). */
  sequenceIds: (number | null)[];
  /** The index of each token's word (pre-tokenizer piece) in its text, or null. */
  wordIds: (number | null)[];
  /** With truncation: the next windows of the input (each `stride` tokens overlapping the one before). */
  overflowing: Encoding[];
}

/** Truncation, as transformers' `truncation`/`max_length`/`stride` and tokenizers' TruncationParams. */
export interface TruncationOptions {
  /** The most tokens, counting those the post-processor adds. */
  maxLength: number;
  /**
   * Which input loses tokens: 'longest_first' (default) takes from the longer of a pair, 'only_first'
   * or 'only_second' from that one alone (question answering truncates the context: 'only_second').
   */
  strategy?: 'longest_first' | 'only_first' | 'only_second';
  /** Tokens each overflowing window repeats from the one before (default 0). */
  stride?: number;
  /** Cut from the end ('right', default) or the start ('left'). */
  direction?: 'right' | 'left';
}

/** Padding, as tokenizers' PaddingParams. */
export interface PaddingOptions {
  /** Pad to this length, or 'longest' (the longest in the batch, default). */
  length?: number | 'longest';
  /** Round the length up to a multiple of this. */
  padToMultipleOf?: number;
  /** The pad token's id; by default the tokenizer's padding settings, else its "[PAD]", "<pad>" or "<|endoftext|>" token. */
  padId?: number;
  padToken?: string;
  padTypeId?: number;
  direction?: 'right' | 'left';
}

export function emptyEncoding(): Encoding {
  return { ids: [], tokens: [], typeIds: [], attentionMask: [], specialTokensMask: [], offsets: [], sequenceIds: [], wordIds: [], overflowing: [] };
}

function copyEncoding(e: Encoding): Encoding {
  return {
    ids: [...e.ids],
    tokens: [...e.tokens],
    typeIds: [...e.typeIds],
    attentionMask: [...e.attentionMask],
    specialTokensMask: [...e.specialTokensMask],
    offsets: e.offsets.map(([a, b]) => [a, b]),
    sequenceIds: [...e.sequenceIds],
    wordIds: [...e.wordIds],
    overflowing: e.overflowing.map(copyEncoding),
  };
}

function sliceEncoding(e: Encoding, s: number, t: number): Encoding {
  return {
    ids: e.ids.slice(s, t),
    tokens: e.tokens.slice(s, t),
    typeIds: e.typeIds.slice(s, t),
    attentionMask: e.attentionMask.slice(s, t),
    specialTokensMask: e.specialTokensMask.slice(s, t),
    offsets: e.offsets.slice(s, t),
    sequenceIds: e.sequenceIds.slice(s, t),
    wordIds: e.wordIds.slice(s, t),
    overflowing: [],
  };
}

/** Append `b` to `a` (in place), pairing their overflowing windows as tokenizers' merge_with does. */
export function mergeInto(a: Encoding, b: Encoding): void {
  const over: Encoding[] = [];
  for (const ao of a.overflowing) {
    const x = copyEncoding(ao);
    mergeInto(x, copyEncoding(b));
    over.push(x);
    for (const bo of b.overflowing) {
      const y = copyEncoding(ao);
      mergeInto(y, copyEncoding(bo));
      over.push(y);
    }
  }
  for (const bo of b.overflowing) {
    const x = copyEncoding(a);
    x.overflowing = [];
    mergeInto(x, copyEncoding(bo));
    over.push(x);
  }
  const append = <T>(x: T[], y: readonly T[]) => {
    for (let i = 0; i < y.length; i++) x.push(y[i]); // no push(...y): long inputs overflow the stack
  };
  append(a.ids, b.ids);
  append(a.tokens, b.tokens);
  append(a.typeIds, b.typeIds);
  append(a.attentionMask, b.attentionMask);
  append(a.specialTokensMask, b.specialTokensMask);
  append(a.offsets, b.offsets);
  append(a.sequenceIds, b.sequenceIds);
  append(a.wordIds, b.wordIds);
  a.overflowing = over;
}

/** Several encodings as one (tokenizers' Encoding::merge). */
export function mergeEncodings(list: Encoding[]): Encoding {
  const out = emptyEncoding();
  for (const e of list) mergeInto(out, e);
  return out;
}

/** Keep `maxLen` tokens; the rest become overflowing windows that overlap by `stride` (tokenizers' truncate). */
export function truncateEncoding(e: Encoding, maxLen: number, stride: number, direction: 'right' | 'left'): void {
  const n = e.ids.length;
  if (maxLen >= n) return;
  if (maxLen === 0) {
    const whole = copyEncoding(e);
    Object.assign(e, emptyEncoding());
    e.overflowing.push(whole);
    return;
  }
  if (stride >= maxLen) throw new RangeError(`truncation: stride (${stride}) must be smaller than the length left for the text (${maxLen}, after the special tokens)`);
  const step = maxLen - stride;
  const parts: [number, number][] = [];
  if (direction === 'right') {
    for (let start = 0; start < n; start += step) {
      const stop = Math.min(start + maxLen, n);
      parts.push([start, stop]);
      if (stop === n) break;
    }
  } else {
    for (let stop = n; stop > 0; stop -= step) {
      const start = Math.max(0, stop - maxLen);
      parts.push([start, stop]);
      if (start === 0) break;
    }
  }
  const first = sliceEncoding(e, parts[0][0], parts[0][1]);
  first.overflowing = parts.slice(1).map(([s, t]) => sliceEncoding(e, s, t));
  Object.assign(e, first);
}

/** Truncate an input and its optional pair so that together they hold `maxLength` tokens (utils/truncation.rs). */
export function truncatePair(a: Encoding, b: Encoding | null, o: Required<TruncationOptions>): void {
  const { maxLength, stride, direction, strategy } = o;
  if (maxLength === 0) {
    truncateEncoding(a, 0, stride, direction);
    if (b) truncateEncoding(b, 0, stride, direction);
    return;
  }
  const total = a.ids.length + (b?.ids.length ?? 0);
  if (total <= maxLength) return;
  const toRemove = total - maxLength;
  if (strategy === 'longest_first') {
    if (!b) {
      truncateEncoding(a, total - toRemove, stride, direction);
      return;
    }
    let n1 = a.ids.length;
    let n2 = b.ids.length;
    const swap = n1 > n2;
    if (swap) [n1, n2] = [n2, n1];
    n2 = n1 > maxLength ? n1 : Math.max(n1, maxLength - n1);
    if (n1 + n2 > maxLength) {
      n1 = Math.floor(maxLength / 2);
      n2 = n1 + (maxLength % 2);
    }
    if (swap) [n1, n2] = [n2, n1];
    truncateEncoding(a, n1, stride, direction);
    truncateEncoding(b, n2, stride, direction);
    return;
  }
  const target = strategy === 'only_first' ? a : b;
  if (!target) throw new Error("truncation: strategy 'only_second' needs a pair of inputs");
  if (target.ids.length <= toRemove) {
    throw new RangeError(
      `truncation: the ${strategy === 'only_first' ? 'first' : 'second'} input has ${target.ids.length} tokens, too few to remove the ${toRemove} that maxLength ${maxLength} asks for`,
    );
  }
  truncateEncoding(target, target.ids.length - toRemove, stride, direction);
}

/** Pad (in place, overflowing windows too) to `length` tokens. */
export function padEncoding(e: Encoding, length: number, padId: number, padTypeId: number, padToken: string, direction: 'right' | 'left'): void {
  for (const o of e.overflowing) padEncoding(o, length, padId, padTypeId, padToken, direction);
  const k = length - e.ids.length;
  if (k <= 0) return;
  const fill = <T>(arr: T[], v: () => T) => {
    const pad = Array.from({ length: k }, v);
    if (direction === 'right') for (const x of pad) arr.push(x);
    else arr.splice(0, 0, ...pad);
  };
  fill(e.ids, () => padId);
  fill(e.tokens, () => padToken);
  fill(e.typeIds, () => padTypeId);
  fill(e.attentionMask, () => 0);
  fill(e.specialTokensMask, () => 1);
  fill(e.offsets, (): [number, number] => [0, 0]);
  fill(e.sequenceIds, () => null);
  fill(e.wordIds, () => null);
}
