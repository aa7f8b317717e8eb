// BLEU (Papineni et al. 2002) exactly as sacreBLEU 2.x computes it: the '13a' tokenizer of
// mteval-v13a.pl, clipped n-gram counts against the union of references, the closest reference
// length for the brevity penalty, and sacreBLEU's smoothing methods. Scores are on a 0-100 scale.

/**
 * How BLEU splits text into tokens (sacreBLEU's names): '13a' (mteval-v13a, the default), 'none'
 * (whitespace only) or 'char' (every character).
 */
export type BleuTokenizer = '13a' | 'none' | 'char';
/**
 * sacreBLEU's smoothing methods for n-gram orders without matches: 'exp' (the default), 'floor',
 * 'add-k' or 'none'.
 */
export type BleuSmoothing = 'exp' | 'floor' | 'add-k' | 'none';

/**
 * Options of {@link corpusBleu} and {@link sentenceBleu}: sacreBLEU's settings, with its defaults.
 */
export interface BleuOptions {
  /** Tokenizer applied to hypotheses and references (sacreBLEU's default '13a'). */
  tokenize?: BleuTokenizer;
  /** Lowercase before tokenizing (default false). */
  lowercase?: boolean;
  /** 'exp' (NIST's, the default), 'floor', 'add-k' or 'none'; Chen & Cherry (2014) methods 3, 1, 2. */
  smoothMethod?: BleuSmoothing;
  /** The value for 'floor' (default 0.1) and 'add-k' (default 1). */
  smoothValue?: number;
  /** Largest n-gram order (default 4). */
  maxNgramOrder?: number;
  /** Average only over the orders up to the last with any hypothesis n-gram (default: false for corpusBleu, true for sentenceBleu). */
  effectiveOrder?: boolean;
}

/** sacreBLEU's BLEUScore: the score and its sufficient statistics. */
export interface BleuScore {
  /** BLEU on the 0-100 scale. */
  score: number;
  /** Matched (clipped) n-grams per order, 1..maxNgramOrder. */
  counts: number[];
  /** Hypothesis n-grams per order. */
  totals: number[];
  /** Percent precisions per order (smoothed). */
  precisions: number[];
  /** Brevity penalty. */
  bp: number;
  /** Hypothesis tokens in the corpus. */
  sysLen: number;
  /** Sum of the closest reference lengths. */
  refLen: number;
  /** sysLen / refLen (0 when refLen is 0). */
  ratio: number;
}

const SMOOTH_DEFAULTS: Record<BleuSmoothing, number | null> = { none: null, floor: 0.1, 'add-k': 1, exp: null };

// Python's str.split()/strip() whitespace (str.isspace): differs from JS \s (no U+FEFF; adds U+001C-U+001F, U+0085).
const PY_WS = '\\t\\n\\x0b\\x0c\\r\\x1c-\\x1f \\x85\\xa0\\u1680\\u2000-\\u200a\\u2028\\u2029\\u202f\\u205f\\u3000';
const PY_WS_RUN = new RegExp(`[${PY_WS}]+`);
const PY_WS_TRAIL = new RegExp(`[${PY_WS}]+$`);

/** Python's `s.split()`: runs of whitespace separate, no empty pieces. */
function pySplit(s: string): string[] {
  return s.split(PY_WS_RUN).filter((t) => t.length > 0);
}

// sacreBLEU's TokenizerRegexp (the language-dependent part of mteval-v13a), applied in order.
const RE_13A: [RegExp, string][] = [
  // ASCII punctuation and symbols except . , - and ' (ranges {-~, [-`, space-&, (-+, :-@, and /)
  [/([{-~[-` -&(-+:-@/])/g, ' $1 '],
  // period and comma unless preceded by a digit
  [/([^0-9])([.,])/g, '$1 $2 '],
  // period and comma unless followed by a digit
  [/([.,])([^0-9])/g, ' $1 $2'],
  // dash when preceded by a digit
  [/([0-9])(-)/g, '$1 $2 '],
];

/**
 * sacreBLEU's '13a' tokenizer (mteval-v13a.pl): unescapes a few HTML entities, splits off
 * punctuation and symbols, keeps periods and commas inside numbers, and joins tokens with one space.
 * @example tokenize13a('It costs $3,000.50.') // 'It costs $ 3,000.50 .'
 */
export function tokenize13a(line: string): string {
  line = line.replaceAll('<skipped>', '').replaceAll('-\n', '').replaceAll('\n', ' ');
  line = line.replaceAll('&quot;', '"').replaceAll('&amp;', '&').replaceAll('&lt;', '<').replaceAll('&gt;', '>');
  line = ` ${line} `;
  for (const [re, rep] of RE_13A) line = line.replace(re, rep);
  return pySplit(line).join(' ');
}

function tokenizeWith(name: BleuTokenizer, line: string): string {
  switch (name) {
    case '13a':
      return tokenize13a(line);
    case 'none':
      return line;
    // every code point a token (Python iterates code points)
    case 'char':
      return Array.from(line).join(' ');
    default:
      throw new Error(`bleu: unknown tokenizer '${name as string}'; expected '13a', 'none' or 'char'`);
  }
}

interface Resolved {
  tokenize: BleuTokenizer;
  lowercase: boolean;
  smoothMethod: BleuSmoothing;
  smoothValue: number | null;
  order: number;
  effectiveOrder: boolean;
}

function resolve(opts: BleuOptions, effectiveDefault: boolean): Resolved {
  const smoothMethod = opts.smoothMethod ?? 'exp';
  if (!Object.hasOwn(SMOOTH_DEFAULTS, smoothMethod)) throw new Error(`bleu: unknown smoothMethod '${smoothMethod}'; expected 'exp', 'floor', 'add-k' or 'none'`);
  const order = opts.maxNgramOrder ?? 4;
  if (!Number.isInteger(order) || order < 1) throw new Error(`bleu: maxNgramOrder must be a positive integer, got ${order}`);
  return {
    tokenize: opts.tokenize ?? '13a',
    lowercase: opts.lowercase ?? false,
    smoothMethod,
    smoothValue: opts.smoothValue ?? null,
    order,
    effectiveOrder: opts.effectiveOrder ?? effectiveDefault,
  };
}

/** sacreBLEU's _preprocess_segment: lowercase (optionally), strip trailing whitespace, tokenize, split. */
function preprocess(s: string, o: Resolved): string[] {
  if (o.lowercase) s = s.toLowerCase();
  return pySplit(tokenizeWith(o.tokenize, s.replace(PY_WS_TRAIL, '')));
}

/** Counts of all n-grams of orders 1..order, keyed by the tokens joined with spaces (tokens have none). */
function ngramCounts(tokens: string[], order: number): Map<string, number> {
  const counts = new Map<string, number>();
  for (let n = 1; n <= order; n++) {
    for (let i = 0; i + n <= tokens.length; i++) {
      const k = tokens.slice(i, i + n).join(' ');
      counts.set(k, (counts.get(k) ?? 0) + 1);
    }
  }
  return counts;
}

/** The reference length closest to the hypothesis length; ties go to the shorter reference. */
function closestRefLen(hypLen: number, refLens: number[]): number {
  let bestDiff = -1,
    best = -1;
  for (const r of refLens) {
    const d = Math.abs(hypLen - r);
    if (bestDiff === -1 || d < bestDiff) {
      bestDiff = d;
      best = r;
    } else if (d === bestDiff && r < best) best = r;
  }
  return best;
}

/** [hypLen, refLen, correct_1..N, total_1..N] for one segment (sacreBLEU's segment statistics). */
function segmentStats(hyp: string, refs: string[], o: Resolved): number[] {
  const refNgrams = new Map<string, number>();
  const refLens: number[] = [];
  for (const ref of refs) {
    const toks = preprocess(ref, o);
    refLens.push(toks.length);
    // clip against the largest count in any one reference
    for (const [g, c] of ngramCounts(toks, o.order)) if (c > (refNgrams.get(g) ?? 0)) refNgrams.set(g, c);
  }
  const hypToks = preprocess(hyp, o);
  const correct = new Array<number>(o.order).fill(0),
    total = new Array<number>(o.order).fill(0);
  for (const [g, c] of ngramCounts(hypToks, o.order)) {
    const n = g.split(' ').length - 1;
    total[n] += c;
    const rc = refNgrams.get(g);
    if (rc !== undefined) correct[n] += Math.min(c, rc);
  }
  return [hypToks.length, closestRefLen(hypToks.length, refLens), ...correct, ...total];
}

/** sacreBLEU's my_log: log with log(0) floored to -9999999999. */
const myLog = (x: number): number => (x === 0 ? -9999999999 : Math.log(x));

/**
 * BLEU from its sufficient statistics (sacreBLEU's BLEU.compute_bleu, whose default smoothing is
 * 'none'): brevity penalty exp(1 − refLen/sysLen) when sysLen < refLen, times the geometric mean
 * of the n-gram precisions.
 * @example computeBleu([9, 7, 5, 3], [10, 8, 6, 4], 11, 11).score // 83.759...
 */
export function computeBleu(
  correct: readonly number[],
  total: readonly number[],
  sysLen: number,
  refLen: number,
  opts: { smoothMethod?: BleuSmoothing; smoothValue?: number | null; effectiveOrder?: boolean; maxNgramOrder?: number } = {},
): BleuScore {
  const method = opts.smoothMethod ?? 'none';
  if (!Object.hasOwn(SMOOTH_DEFAULTS, method)) throw new Error(`computeBleu: unknown smoothMethod '${method}'`);
  const order = opts.maxNgramOrder ?? 4;
  if (correct.length !== order || total.length !== order) {
    throw new Error(`computeBleu: expected ${order} counts and totals, got ${correct.length} and ${total.length}`);
  }
  const smoothValue = opts.smoothValue ?? SMOOTH_DEFAULTS[method] ?? 0;
  const counts = [...correct],
    totals = [...total];
  const bp = sysLen < refLen ? (sysLen > 0 ? Math.exp(1 - refLen / sysLen) : 0) : 1;
  const precisions = new Array<number>(order).fill(0);
  const ratio = refLen ? sysLen / refLen : 0;
  // no match at all: 0 without smoothing (sacreBLEU #141)
  if (!counts.some((c) => c !== 0)) return { score: 0, counts, totals, precisions, bp, sysLen, refLen, ratio };
  let smoothMteval = 1;
  let effOrder = order;
  for (let n = 1; n <= order; n++) {
    if (method === 'add-k' && n > 1) {
      counts[n - 1] += smoothValue;
      totals[n - 1] += smoothValue;
    }
    if (totals[n - 1] === 0) break;
    if (opts.effectiveOrder) effOrder = n;
    if (counts[n - 1] === 0) {
      if (method === 'exp') {
        smoothMteval *= 2;
        precisions[n - 1] = 100 / (smoothMteval * totals[n - 1]);
      } else if (method === 'floor') precisions[n - 1] = (100 * smoothValue) / totals[n - 1];
    } else {
      precisions[n - 1] = (100 * counts[n - 1]) / totals[n - 1];
    }
  }
  let logSum = 0;
  for (let i = 0; i < effOrder; i++) logSum += myLog(precisions[i]);
  const score = bp * Math.exp(logSum / effOrder);
  return { score, counts, totals, precisions, bp, sysLen, refLen, ratio };
}

/** Reference streams from either one stream or a list of them; '' and null mark a missing reference. */
function toStreams(references: readonly string[] | readonly (readonly (string | null)[])[], n: number): readonly (readonly (string | null)[])[] {
  if (!Array.isArray(references) || references.length === 0) throw new Error('corpusBleu: references must be a non-empty array');
  const streams = typeof references[0] === 'string' || references[0] === null ? [references as readonly (string | null)[]] : (references as readonly (readonly (string | null)[])[]);
  streams.forEach((s, k) => {
    if (!Array.isArray(s)) throw new Error(`corpusBleu: reference stream ${k} is not an array of strings`);
    if (s.length !== n) {
      throw new Error(`corpusBleu: reference stream ${k} has ${s.length} lines for ${n} hypotheses ` + "(sacreBLEU's layout: references[k][i] is the k-th reference of hypothesis i)");
    }
  });
  return streams;
}

function bleuFromSegments(hyps: readonly string[], streams: readonly (readonly (string | null)[])[], o: Resolved, where: string): BleuScore {
  const sums = new Array<number>(2 + 2 * o.order).fill(0);
  hyps.forEach((hyp, i) => {
    if (typeof hyp !== 'string') throw new Error(`${where}: hypothesis ${i} is not a string`);
    const refs = streams.map((s) => s[i]).filter((r): r is string => r !== null && r !== undefined && r !== '');
    if (refs.length === 0) throw new Error(`${where}: hypothesis ${i} has no reference (all are empty or null)`);
    const st = segmentStats(hyp, refs, o);
    for (let k = 0; k < st.length; k++) sums[k] += st[k];
  });
  return computeBleu(sums.slice(2, 2 + o.order), sums.slice(2 + o.order), sums[0], sums[1], {
    smoothMethod: o.smoothMethod,
    smoothValue: o.smoothValue,
    effectiveOrder: o.effectiveOrder,
    maxNgramOrder: o.order,
  });
}

/**
 * Corpus BLEU with sacreBLEU's defaults (13a tokens, 'exp' smoothing, cased, no effective order).
 * `references` is one reference per hypothesis (string[]), or several reference streams in
 * sacreBLEU's layout: references[k][i] is the k-th reference of hypothesis i. A reference that is
 * '' or null is missing (hypotheses may have different numbers of references).
 * @example corpusBleu(['The dog bit the man.'], [['The dog bit the man.'], ['The dog had bit the man.']]).score // 100
 */
export function corpusBleu(hypotheses: readonly string[], references: readonly string[] | readonly (readonly (string | null)[])[], opts: BleuOptions = {}): BleuScore {
  if (!Array.isArray(hypotheses)) throw new Error('corpusBleu: hypotheses must be an array of strings');
  return bleuFromSegments(hypotheses, toStreams(references, hypotheses.length), resolve(opts, false), 'corpusBleu');
}

/**
 * BLEU of one hypothesis against one or more references, as sacrebleu.sentence_bleu (whose
 * default turns effectiveOrder on). BLEU is a corpus metric; use this for inspection only.
 * @example sentenceBleu('a test', ['a test']).score // 100
 */
export function sentenceBleu(hypothesis: string, references: string | readonly string[], opts: BleuOptions = {}): BleuScore {
  const refs = typeof references === 'string' ? [references] : references;
  if (!Array.isArray(refs) || refs.length === 0) throw new Error('sentenceBleu: references must be a string or a non-empty array of strings');
  return bleuFromSegments(
    [hypothesis],
    refs.map((r) => [r]),
    resolve(opts, true),
    'sentenceBleu',
  );
}

/**
 * sacreBLEU's one-line report, e.g. `BLEU = 48.53 82.4/50.0/45.5/37.5 (BP = 0.943 ratio = 0.944 hyp_len = 17 ref_len = 18)`.
 */
export function formatBleu(s: BleuScore, width = 2): string {
  const prec = s.precisions.map((p) => p.toFixed(1)).join('/');
  return `BLEU = ${s.score.toFixed(width)} ${prec} (BP = ${s.bp.toFixed(3)} ratio = ${s.ratio.toFixed(3)} hyp_len = ${s.sysLen} ref_len = ${s.refLen})`;
}
