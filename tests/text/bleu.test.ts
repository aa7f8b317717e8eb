// Corpus and sentence BLEU against sacreBLEU: values from its test suite (test/test_bleu.py,
// test/test_sentence_bleu.py) and README, plus a few computed with sacreBLEU 2.6.0 (marked).
import { describe, it, expect } from 'vitest';
import { corpusBleu, sentenceBleu, computeBleu, tokenize13a, formatBleu } from '../../src/text/bleu.js';

const EPS = 1e-8;

// sacreBLEU's README example: two reference streams, references[k][i] is the k-th reference of hypothesis i.
const REFS = [
  ['The dog bit the man.', 'It was not unexpected.', 'The man bit him first.'],
  ['The dog had bit the man.', 'No one was surprised.', 'The man had bitten the dog.'],
];
const HYPS = ['The dog bit the man.', "It wasn't surprising.", 'The man had just bitten him.'];

describe('tokenize13a', () => {
  it('splits punctuation and symbols, keeps separators inside numbers (sacreBLEU 2.6.0 outputs)', () => {
    expect(tokenize13a('Hello, world! It costs $3,000.50 (approx.) -- 1990-2000.')).toBe('Hello , world ! It costs $ 3,000.50 ( approx . ) -- 1990 - 2000 .');
    expect(tokenize13a('U.S.A. e.g. 3.14, x.y')).toBe('U . S . A . e . g . 3.14 , x . y');
    expect(tokenize13a("don't can't 'quoted' [br]{c}~ a_b #1 @home 50% x^2 a|b")).toBe("don't can't 'quoted' [ br ] { c } ~ a _ b # 1 @ home 50 % x ^ 2 a | b");
    expect(tokenize13a('1,000 ,5 5, .5 5. -5 5- a-b')).toBe('1,000 , 5 5 , . 5 5 . -5 5 - a-b');
  });

  it('unescapes the four HTML entities, drops <skipped>, joins hyphenated line breaks', () => {
    expect(tokenize13a('a&amp;b &quot;q&quot; &lt;x&gt; <skipped>z')).toBe('a & b " q " < x > z');
    expect(tokenize13a('end-\nline\nnext')).toBe('endline next');
  });

  it("splits on Python's whitespace (tab, U+3000, no-break space), collapsing runs", () => {
    expect(tokenize13a('tabs\tand\u3000wide\u00a0nbsp')).toBe('tabs and wide nbsp');
    expect(tokenize13a('  a   b  ')).toBe('a b');
    expect(tokenize13a('')).toBe('');
  });
});

describe('corpusBleu', () => {
  it("gives the README's 48.53 with sacreBLEU's counts, totals, lengths and report line", () => {
    const b = corpusBleu(HYPS, REFS);
    expect(Math.abs(b.score - 48.530827)).toBeLessThan(1e-6); // test_bleu.py: default settings
    expect(b.score).toBeCloseTo(48.530827009929865, 10); // sacreBLEU 2.6.0
    expect(b.counts).toEqual([14, 7, 5, 3]);
    expect(b.totals).toEqual([17, 14, 11, 8]);
    expect(b.sysLen).toBe(17);
    expect(b.refLen).toBe(18);
    expect(b.bp).toBeCloseTo(Math.exp(1 - 18 / 17), 12);
    expect(b.precisions[0]).toBeCloseTo((100 * 14) / 17, 10);
    expect(b.precisions[3]).toBeCloseTo(37.5, 10);
    expect(formatBleu(b)).toBe('BLEU = 48.53 82.4/50.0/45.5/37.5 (BP = 0.943 ratio = 0.944 hyp_len = 17 ref_len = 18)');
  });

  it('matches the other settings of test_bleu.py', () => {
    expect(Math.abs(corpusBleu(HYPS, REFS, { tokenize: 'none' }).score - 49.1919566)).toBeLessThan(1e-6);
    expect(Math.abs(corpusBleu(HYPS, REFS, { tokenize: '13a' }).score - 48.530827)).toBeLessThan(1e-6);
    expect(Math.abs(corpusBleu(HYPS, REFS, { smoothMethod: 'none' }).score - 48.530827)).toBeLessThan(1e-6);
    // empty hypotheses are scored, not removed
    expect(corpusBleu(['', '', ''], REFS).score).toBe(0);
    // effective order changes nothing when every order has n-grams
    expect(corpusBleu(HYPS, REFS, { effectiveOrder: true }).score).toBeCloseTo(48.530827009929865, 10);
  });

  it("matches test_bleu.py's raw BLEU cases (no tokenization, floor 0.01, effective order)", () => {
    const raw = { tokenize: 'none' as const, smoothMethod: 'floor' as const, smoothValue: 0.01, effectiveOrder: true };
    // no match at all: 0 since sacreBLEU's fix of #141 (older test_bleu.py versions expected 0.0038 here; 2.6.0 gives 0)
    expect(corpusBleu(['this is a test', 'another test'], ['ref1', 'ref2'], raw).score).toBe(0);
    expect(Math.abs(corpusBleu(['this is a test'], ['this is a test'], raw).score / 100 - 1)).toBeLessThan(EPS);
    expect(Math.abs(corpusBleu(['this is a fest'], ['this is a test'], raw).score / 100 - 0.223606797749979)).toBeLessThan(EPS);
    // effective order: 'test' vs 'a test' is BP·p1 = e^(1−2/1)·1
    expect(Math.abs(corpusBleu(['test'], ['a test'], raw).score / 100 - 0.3678794411714425)).toBeLessThan(EPS);
    expect(Math.abs(corpusBleu(['a test'], ['a test'], raw).score / 100 - 1)).toBeLessThan(EPS);
    expect(Math.abs(corpusBleu(['a little test'], ['a test'], raw).score / 100 - 0.03218297948685433)).toBeLessThan(EPS);
  });

  it("counts clipped n-gram matches as test_bleu.py's statistics case, with and without the floor", () => {
    const hyp = ['am I am a character sequence'],
      ref = ['I am a symbol string sequence a a'];
    const b = corpusBleu(hyp, ref, { tokenize: 'none', smoothMethod: 'floor', smoothValue: 0.01, effectiveOrder: true });
    expect(b.counts).toEqual([4, 2, 1, 0]);
    expect(b.totals).toEqual([6, 5, 4, 3]);
    const raw = { tokenize: 'none' as const, smoothMethod: 'floor' as const, effectiveOrder: true };
    expect(corpusBleu(hyp, ref, { ...raw, smoothValue: 0 }).score).toBe(0);
    expect(Math.abs(corpusBleu(hyp, ref, raw).score / 100 - 0.1555722182)).toBeLessThan(EPS); // floor default 0.1
    // the same statistics by hand: 'am' occurs twice in the hypothesis but once in the reference
    expect(corpusBleu(['the the the the the the the'], ['the cat is on the mat']).counts).toEqual([2, 0, 0, 0]);
  });

  it('takes one reference stream or several, and a missing reference (empty string) per hypothesis', () => {
    // sacreBLEU 2.6.0: each stream alone
    const r0 = corpusBleu(HYPS, REFS[0]);
    expect(r0.score).toBeCloseTo(45.06750632106114, 10);
    expect(r0.refLen).toBe(17);
    expect(formatBleu(r0)).toBe('BLEU = 45.07 70.6/42.9/36.4/37.5 (BP = 1.000 ratio = 1.000 hyp_len = 17 ref_len = 17)');
    expect(corpusBleu(HYPS, [REFS[0]]).score).toBe(r0.score);
    const r1 = corpusBleu(HYPS, [REFS[1]]);
    expect(r1.score).toBeCloseTo(28.330553664429278, 10);
    expect(r1.counts).toEqual([12, 6, 3, 1]);
    expect(r1.refLen).toBe(19);
    // variable number of references: the third hypothesis has only the first stream's
    const v = corpusBleu(HYPS, [REFS[0], ['The dog had bit the man.', 'No one was surprised.', '']]);
    expect(v.score).toBeCloseTo(45.06750632106114, 10);
    expect(v.counts).toEqual([12, 6, 4, 3]);
  });

  it('uses the closest reference length, the shorter one on a tie, for the brevity penalty', () => {
    const t = corpusBleu(['a b c d'], [['a b c'], ['a b c d e']]);
    expect(t.refLen).toBe(3);
    expect(t.bp).toBe(1);
    expect(t.score).toBeCloseTo(100, 10);
    // sacreBLEU 2.6.0: hypotheses shorter than the references, and no 3-grams at all
    const s = corpusBleu(['a b', 'c'], [['a b c d e', 'c d']]);
    expect([s.sysLen, s.refLen]).toEqual([3, 7]);
    expect(s.bp).toBeCloseTo(0.2635971381157267, 12);
    expect(s.totals).toEqual([3, 1, 0, 0]);
    expect(s.precisions).toEqual([100, 100, 0, 0]);
    expect(s.score).toBe(0);
  });

  it('is 0 with zero precisions when nothing matches', () => {
    const z = corpusBleu(['a b c d'], [['x y']]);
    expect(z.score).toBe(0);
    expect(z.counts).toEqual([0, 0, 0, 0]);
    expect(z.totals).toEqual([4, 3, 2, 1]);
    expect(z.precisions).toEqual([0, 0, 0, 0]);
    expect(z.bp).toBe(1);
  });

  it('lowercases on request and tokenizes 13a before matching (sacreBLEU 2.6.0)', () => {
    const hyps = ['THE DOG bit the man.', 'no one WAS surprised .'];
    const refs = [['The dog bit the man.', 'No one was surprised.']];
    const cased = corpusBleu(hyps, refs);
    expect(cased.score).toBeCloseTo(35.6550620855925, 10);
    expect(cased.counts).toEqual([7, 4, 2, 1]);
    expect(corpusBleu(hyps, refs, { lowercase: true }).score).toBeCloseTo(100, 10);
    // detokenized and pre-tokenized text tokenize alike
    expect(corpusBleu(['It costs $3,000.50 (approx.)', 'U.S.A. 1990-2000'], [['It costs $ 3,000.50 ( approx . )', 'U . S . A . 1990 - 2000']]).score).toBeCloseTo(100, 10);
    const ch = corpusBleu(HYPS, REFS, { tokenize: 'char' });
    expect(ch.score).toBeCloseTo(72.61064153440596, 10);
    expect(ch.counts).toEqual([53, 42, 35, 29]);
  });

  it('rejects mismatched streams and hypotheses without any reference', () => {
    expect(() => corpusBleu(HYPS, [['a', 'b']])).toThrow(/reference stream 0 has 2 lines for 3 hypotheses/);
    expect(() => corpusBleu(['x'], [['']])).toThrow(/hypothesis 0 has no reference/);
    expect(() => corpusBleu(['x'], [])).toThrow(/non-empty/);
    expect(() => corpusBleu(['x'], ['x'], { tokenize: 'intl' as any })).toThrow(/unknown tokenizer/);
    expect(() => corpusBleu(['x'], ['x'], { smoothMethod: 'bogus' as any })).toThrow(/unknown smoothMethod/);
  });
});

describe('sentenceBleu', () => {
  // test_sentence_bleu.py (#98): effective order on, as sacrebleu.sentence_bleu's default
  const REF = 'producţia de zahăr brut se exprimă în zahăr alb;';
  const SYS = 'Producția de zahăr primă va fi exprimată în ceea ce privește zahărul alb;';
  const cases: [string, number | undefined, boolean, '13a' | 'none' | 'char', number][] = [
    ['exp', undefined, false, '13a', 8.493],
    ['none', undefined, false, '13a', 0.0],
    ['floor', undefined, false, '13a', 4.51688],
    ['floor', 0.1, false, '13a', 4.51688],
    ['floor', 0.5, false, '13a', 10.1],
    ['add-k', undefined, false, '13a', 14.882],
    ['add-k', 1, false, '13a', 14.882],
    ['add-k', 2, false, '13a', 21.389],
    ['exp', undefined, false, 'none', 7.347],
    ['exp', undefined, false, 'char', 40.8759],
    ['exp', undefined, true, 'char', 42.0267],
  ];
  it.each(cases)('smoothing %s (%s), lowercase %s, tokenizer %s → %f', (m, v, lc, tok, expected) => {
    const s = sentenceBleu(SYS, [REF], { smoothMethod: m as any, smoothValue: v, lowercase: lc, tokenize: tok });
    expect(Math.abs(s.score - expected)).toBeLessThan(1e-3);
  });

  it('keeps the smoothed counts of add-k as sacreBLEU reports them (sacreBLEU 2.6.0)', () => {
    const e = sentenceBleu(SYS, REF);
    expect(e.score).toBeCloseTo(8.493098745313148, 10);
    expect([e.counts, e.totals, e.sysLen, e.refLen]).toEqual([[5, 2, 0, 0], [14, 13, 12, 11], 14, 10]);
    const k = sentenceBleu(SYS, [REF], { smoothMethod: 'add-k', smoothValue: 2 });
    expect(k.counts).toEqual([5, 4, 2, 2]);
    expect(k.totals).toEqual([14, 15, 14, 13]);
  });

  it('is 0 for every smoothing when no n-gram matches (#141)', () => {
    for (const m of ['exp', 'none', 'floor', 'add-k'] as const) expect(sentenceBleu('this is a cat', ['okay thanks'], { smoothMethod: m }).score).toBe(0);
  });

  it('scores against several references (sacreBLEU 2.6.0)', () => {
    const s = sentenceBleu('The cat sat on the mat.', ['The cat is on the mat.', 'There is a cat on the mat.']);
    expect(s.score).toBeCloseTo(48.892302243490086, 10);
    expect(s.counts).toEqual([6, 4, 2, 1]);
    expect(s.refLen).toBe(7);
    expect(() => sentenceBleu('x', [])).toThrow(/non-empty/);
  });
});

describe('computeBleu', () => {
  it("matches test_bleu.py's scoring case", () => {
    expect(Math.abs(computeBleu([9, 7, 5, 3], [10, 8, 6, 4], 11, 11).score / 100 - 0.8375922397)).toBeLessThan(EPS);
  });

  it("gives exactly 0 on test_bleu.py's degenerate statistics with floor smoothing", () => {
    const cases: [number[], number[], number, number, number][] = [
      [[0, 0, 0, 0], [4, 4, 2, 1], 0, 1, 0.0],
      [[0, 0, 0, 0], [10, 11, 12, 0], 14, 10, 0.0],
      [[0, 0, 0, 0], [0, 0, 0, 0], 0, 0, 0.0],
      [[6, 5, 4, 0], [6, 5, 4, 3], 6, 6, 0.0],
      [[0, 0, 0, 0], [0, 0, 0, 0], 0, 0, 0.1],
      [[0, 0, 0, 0], [0, 0, 0, 0], 1, 5, 0.01],
    ];
    for (const [c, t, sys, ref, floor] of cases) {
      expect(computeBleu(c, t, sys, ref, { smoothMethod: 'floor', smoothValue: floor }).score).toBe(0);
    }
  });

  it("computes 'exp' smoothing as NIST: halve the pseudo-count at each zero order", () => {
    // p = [50, 25, 100/(2·6), 100/(4·5)]; BP = 1
    const b = computeBleu([5, 2, 0, 0], [10, 8, 6, 5], 10, 10, { smoothMethod: 'exp' });
    const expected = Math.exp((Math.log(50) + Math.log(25) + Math.log(100 / 12) + Math.log(100 / 20)) / 4);
    expect(b.score).toBeCloseTo(expected, 10);
    expect(() => computeBleu([1, 1], [1, 1], 1, 1)).toThrow(/expected 4 counts/);
  });
});
