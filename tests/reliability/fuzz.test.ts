// Fuzz-style reliability test: a few hundred malformed model files (safetensors, config.json,
// tokenizer.json, adapter_config.json, index files), each written into a copy of a valid tiny GPT-2
// directory and given to the real loaders. Every input must load correctly or be refused with an
// Error (not a TypeError or RangeError) that names a file, quickly and without growing memory.
// The inputs come from a seeded generator, so every run tries the same ones.
import { describe, it, expect } from 'vitest';
import { cp, mkdir, readFile, rm, symlink, writeFile } from 'node:fs/promises';
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import * as nb from '../../src/index.js';
import { GPT } from '../../src/models/gpt.js';
import { fromPretrained } from '../../src/models/pretrained.js';
import { injectLora } from '../../src/nn/lora.js';
import { BPETokenizer } from '../../src/text/index.js';
import { tempDir } from '../helpers/tmp.js';
import { mulberry32 as rng } from '../helpers/rng.js';

const rand = rng(20240614);
const randInt = (n: number) => Math.floor(rand() * n);
const pick = <T>(xs: readonly T[]): T => xs[randInt(xs.length)];

type Kind = 'safetensors' | 'config.json' | 'tokenizer' | 'adapter_config.json' | 'index';
type Target = 'model' | 'adapter' | 'safetensors';
interface Case {
  kind: Kind;
  name: string;
  /** Writes the input into `root` (root/model: the valid model, root/adapter: an adapter on it). */
  setup: (root: string) => Promise<void>;
  target: Target;
  /** An error must name one of these files. */
  names: string[];
  /** 'error': no correct reading exists; 'ok': a valid variation; 'any': may be either (byte flips). */
  want: 'error' | 'ok' | 'any';
}

const posix = process.platform !== 'win32';
const skipped: string[] = [];
const CASE_MS = 2000;
const RSS_LIMIT = 500 * 2 ** 20;

// ---- the valid directory

const C = { vocabSize: 300, nPositions: 16, nEmbd: 8, nLayer: 2, nHead: 2, dropout: 0, bosTokenId: null, eosTokenId: null };

async function makeBase(): Promise<string> {
  const base = await tempDir('nabla-fuzz-base-');
  nb.manualSeed(1);
  const model = new GPT(C);
  const tok = BPETokenizer.train('the quick brown fox jumps over the lazy dog. '.repeat(20), { vocabSize: 270, specialTokens: ['<|endoftext|>'] });
  await model.savePretrained(join(base, 'model'), { tokenizer: tok });
  const lora = injectLora(model, { r: 2, targetModules: ['c_attn'] });
  await lora.saveAdapter(join(base, 'adapter'), { baseModelNameOrPath: '../model' });
  for (const t of new Set(Object.values(model.stateDict()))) t.dispose();
  return base;
}

// ---- safetensors byte surgery

interface St {
  n: number;
  text: string;
  header: Record<string, any>;
  data: Uint8Array;
}

function splitSt(b: Uint8Array): St {
  const n = Number(new DataView(b.buffer, b.byteOffset).getBigUint64(0, true));
  const text = new TextDecoder().decode(b.subarray(8, 8 + n));
  return { n, text, header: JSON.parse(text), data: b.slice(8 + n) };
}

function buildSt(text: string, data: Uint8Array, n?: bigint): Uint8Array {
  const hb = new TextEncoder().encode(text);
  const out = new Uint8Array(8 + hb.length + data.length);
  new DataView(out.buffer).setBigUint64(0, n ?? BigInt(hb.length), true);
  out.set(hb, 8);
  out.set(data, 8 + hb.length);
  return out;
}

const tensorNames = (h: Record<string, any>) => Object.keys(h).filter((k) => k !== '__metadata__');

// ---- the cases

function buildCases(st: Uint8Array, config: Record<string, any>, tokJson: Record<string, any>, adapterCfg: Record<string, any>): Case[] {
  const cases: Case[] = [];
  const S = splitSt(st);
  const names = tensorNames(S.header);
  const byOffset = [...names].sort((a, b) => S.header[a].data_offsets[0] - S.header[b].data_offsets[0]);
  const model = (root: string, f: string) => join(root, 'model', f);
  const stFile = (root: string) => model(root, 'model.safetensors');

  // -- safetensors: half through io.loadSafetensors, half through fromPretrained
  let alt = 0;
  const st_ = (name: string, bytes: Uint8Array | (() => Uint8Array), want: Case['want'] = 'error') => {
    const target: Target = alt++ % 2 ? 'model' : 'safetensors';
    cases.push({
      kind: 'safetensors',
      name,
      target,
      want,
      names: target === 'model' ? ['model.safetensors', 'config.json'] : ['model.safetensors'],
      setup: async (root) => writeFile(stFile(root), typeof bytes === 'function' ? bytes() : bytes),
    });
  };
  const withHeader = (edit: (h: Record<string, any>) => void, data = S.data) => {
    const h = structuredClone(S.header);
    edit(h);
    return buildSt(JSON.stringify(h), data);
  };
  for (const len of [0, 3, 7, 8, 9, 8 + S.n - 1, 8 + S.n, st.length - 1, ...Array.from({ length: 8 }, () => randInt(st.length))]) {
    st_(`truncated to ${len} bytes`, st.slice(0, len));
  }
  for (const n of [0n, 1n, 7n, BigInt(S.n - 1), BigInt(S.n + 1), BigInt(st.length), 2n ** 32n, 2n ** 53n + 1n, 2n ** 63n, 2n ** 64n - 1n, 100n * 2n ** 20n + 1n]) {
    st_(`header length ${n}`, buildSt(S.text, S.data, n));
  }
  for (let i = 0; i < 5; i++) {
    const junk = Array.from({ length: 16 + randInt(64) }, () => String.fromCharCode(32 + randInt(95))).join('');
    st_(`header of random text ${JSON.stringify(junk.slice(0, 12))}…`, buildSt(junk, S.data));
  }
  st_(
    'header of invalid UTF-8',
    (() => {
      const b = buildSt(S.text, S.data);
      b[12] = 0xff;
      b[13] = 0xfe;
      return b;
    })(),
  );
  st_('header cut mid-JSON', buildSt(S.text.slice(0, S.text.length >> 1), S.data));
  for (const v of ['[]', '1', '"x"', 'null', 'true', '[{"dtype":"F32"}]']) st_(`header ${v}`, buildSt(v, S.data));
  for (const dtype of ['F33', '', 'f32', 'constructor', '__proto__', 'toString', 123, null, ['F32']]) {
    st_(
      `dtype ${JSON.stringify(dtype)}`,
      withHeader((h) => {
        h[pick(names)].dtype = dtype;
      }),
    );
  }
  for (const shape of [[-1], [1.5], ['2'], null, 'x', [[2]], [2 ** 53], [1e308, 1e308], [], [0], [2 ** 31, 2 ** 31]]) {
    st_(
      `shape ${JSON.stringify(shape)}`,
      withHeader((h) => {
        h[pick(names)].shape = shape;
      }),
    );
  }
  for (const [what, f] of [
    ['reversed', (o: number[]) => [o[1], o[0]]],
    ['negative', (o: number[]) => [-4, o[1]]],
    ['fractional', (o: number[]) => [o[0] + 0.5, o[1]]],
    ['past the end', (o: number[]) => [o[0] + S.data.length, o[1] + S.data.length]],
    ['one byte short', (o: number[]) => [o[0], o[1] - 1]],
    ['three numbers', (o: number[]) => [o[0], o[1], o[1]]],
    ['strings', (o: number[]) => o.map(String)],
    ['null', () => null],
    ['huge', () => [0, 2 ** 60]],
  ] as const) {
    st_(
      `data_offsets ${what}`,
      withHeader((h) => {
        const k = pick(byOffset.slice(1));
        h[k].data_offsets = f(h[k].data_offsets);
      }),
    );
  }
  st_(
    'two tensors overlap',
    withHeader((h) => {
      const [a, b] = byOffset;
      const size = h[b].data_offsets[1] - h[b].data_offsets[0];
      h[b].data_offsets = [h[a].data_offsets[0], h[a].data_offsets[0] + size];
    }),
  );
  st_(
    "a tensor repeats another one's bytes",
    withHeader((h) => {
      h[byOffset[1]] = { ...h[byOffset[0]] };
    }),
  );
  st_(
    'a hole before the last tensor',
    withHeader(
      (h) => {
        const k = byOffset[byOffset.length - 1];
        h[k].data_offsets = h[k].data_offsets.map((v: number) => v + 4);
      },
      new Uint8Array([...S.data, 0, 0, 0, 0]),
    ),
  );
  st_(
    'a hole at the start',
    withHeader(
      (h) => {
        for (const k of names) h[k].data_offsets = h[k].data_offsets.map((v: number) => v + 8);
      },
      new Uint8Array([...new Uint8Array(8), ...S.data]),
    ),
  );
  const entry = JSON.stringify(S.header[names[0]]);
  st_('a tensor given twice', buildSt(S.text.replace('{', `{${JSON.stringify(names[0])}:${entry},`), S.data));
  st_('a tensor given twice, once escaped', buildSt(S.text.replace('{', `{"\\u0074${names[0].slice(1)}":${entry},`), S.data));
  st_('a __metadata__ key given twice', buildSt(S.text.replace('"format":"pt"', '"format":"pt","format":"np"'), S.data));
  st_('a dtype given twice in one entry', buildSt(S.text.replace('"dtype":"F32"', '"dtype":"F32","dtype":"F16"'), S.data));
  for (const meta of [[1], 5, { a: 1 }, { a: { b: 'c' } }, null])
    st_(
      `__metadata__ ${JSON.stringify(meta)}`,
      withHeader((h) => {
        h.__metadata__ = meta;
      }),
    );
  for (const extra of [1, 7, 4096]) st_(`${extra} bytes after the data`, new Uint8Array([...st, ...new Uint8Array(extra)]));
  st_(
    'a tensor with no name',
    withHeader((h) => {
      h[''] = h[names[0]];
      delete h[names[0]];
    }),
  );
  for (let i = 0; i < 40; i++) {
    const b = st.slice();
    const at = i % 2 ? 8 + randInt(S.n) : randInt(st.length);
    b[at] ^= 1 + randInt(255);
    st_(`byte ${at} flipped`, b, 'any');
  }
  const special = (name: string, target: Target, kind: Kind, file: (root: string) => string, names: string[], make: (p: string) => Promise<void>) => {
    if (!posix) {
      skipped.push(`${kind}: ${name} (needs mkfifo and /dev/zero; ${process.platform})`);
      return;
    }
    cases.push({
      kind,
      name,
      target,
      names,
      want: 'error',
      setup: async (root) => {
        const p = file(root);
        await rm(p, { force: true, recursive: true });
        await make(p);
      },
    });
  };
  const fifo = async (p: string) => {
    execFileSync('mkfifo', [p]);
  };
  const zero = async (p: string) => {
    await symlink('/dev/zero', p);
  };
  const directory = async (p: string) => {
    await mkdir(p);
  };
  const dangling = async (p: string) => {
    await symlink(`${p}.nowhere`, p);
  };
  for (const [what, make] of [
    ['a FIFO', fifo],
    ['a symlink to /dev/zero', zero],
    ['a directory', directory],
    ['a dangling symlink', dangling],
  ] as const) {
    special(`model.safetensors is ${what}`, 'safetensors', 'safetensors', stFile, ['model.safetensors'], make);
    special(`model.safetensors is ${what} (fromPretrained)`, 'model', 'safetensors', stFile, ['model.safetensors'], make);
  }

  // -- config.json through fromPretrained
  const cfg_ = (name: string, text: string | (() => string), want: Case['want'] = 'error') =>
    cases.push({
      kind: 'config.json',
      name,
      target: 'model',
      want,
      names: want === 'error' ? ['config.json'] : [],
      setup: async (root) => writeFile(model(root, 'config.json'), typeof text === 'function' ? text() : text),
    });
  const cfgWith = (edit: Record<string, unknown>) => JSON.stringify({ ...config, ...edit });
  for (const field of ['vocab_size', 'n_positions', 'n_embd', 'n_layer', 'n_head']) {
    for (const v of [null, '12', 1.5, -1, 0, true, [], {}]) cfg_(`${field} ${JSON.stringify(v)}`, cfgWith({ [field]: v }));
    cfg_(`${field} 1e999 (Infinity)`, cfgWith({ [field]: 1 }).replace(`"${field}":1`, `"${field}":1e999`));
  }
  for (const [what, edit] of [
    ['n_layer 1e6', { n_layer: 1e6 }],
    ['vocab_size 2e7', { vocab_size: 2e7 }],
    ['n_positions 1e9', { n_positions: 1e9 }],
    ['n_inner 1e9', { n_inner: 1e9 }],
    ['n_embd 2^40, n_head 1', { n_embd: 2 ** 40, n_head: 1 }],
    ['n_embd 2^52 n_head 2^51', { n_embd: 2 ** 52, n_head: 2 ** 51 }],
    ['vocab_size 299 (weights hold 300)', { vocab_size: 299 }],
    ['n_embd 16', { n_embd: 16 }],
    ['n_layer 3', { n_layer: 3 }],
    ['n_layer 1', { n_layer: 1 }],
    ['n_inner 16', { n_inner: 16 }],
    ['untied (no lm_head.weight)', { tie_word_embeddings: false }],
    ['n_embd 9, n_head 2', { n_embd: 9 }],
    ['n_positions 8 via n_ctx', { n_positions: undefined, n_ctx: 8 }],
    ['attn_pdrop -1', { attn_pdrop: -1 }],
    ['resid_pdrop "0.1"', { resid_pdrop: '0.1' }],
    ['layer_norm_epsilon 0', { layer_norm_epsilon: 0 }],
    ['activation_function swish', { activation_function: 'swish' }],
    ['activation_function 5', { activation_function: 5 }],
    ['eos_token_id -5', { eos_token_id: -5 }],
    ['bos_token_id [1]', { bos_token_id: [1] }],
    ['tie_word_embeddings "no"', { tie_word_embeddings: 'no' }],
    ['n_inner -3', { n_inner: -3 }],
    ['scale_attn_weights false', { scale_attn_weights: false }],
  ] as const)
    cfg_(what, cfgWith(edit));
  for (const type of ['constructor', '__proto__', 'toString', 'valueOf', 'hasOwnProperty', 'GPT2', 5, null, ['gpt2']]) {
    cfg_(`model_type ${JSON.stringify(type)}`, type === '__proto__' ? JSON.stringify(config).replace('"model_type":"gpt2"', '"model_type":"__proto__"') : cfgWith({ model_type: type }));
  }
  for (const text of ['', '{', 'nul', '[1,2]', '"gpt2"', 'null', '{"model_type":"gpt2",}']) cfg_(`not a JSON object: ${JSON.stringify(text)}`, text);
  cfg_('random bytes', () => String.fromCharCode(...Array.from({ length: 200 }, () => randInt(256))));
  cfg_('17 MiB of JSON', () => cfgWith({ pad: ' '.repeat(17 * 2 ** 20) }));
  cfg_('unknown extra fields (valid)', cfgWith({ some_future_field: { a: [1, 2] }, _name_or_path: 'x' }), 'ok');
  cfg_('n_positions given as n_ctx only (valid)', JSON.stringify({ ...config, n_positions: undefined, n_ctx: 16 }), 'ok');
  for (const [what, make] of [
    ['a FIFO', fifo],
    ['a symlink to /dev/zero', zero],
    ['a directory', directory],
  ] as const) {
    special(`config.json is ${what}`, 'model', 'config.json', (root) => model(root, 'config.json'), ['config.json'], make);
  }

  // -- tokenizer.json (and vocab.json + merges.txt) through fromPretrained
  const tok_ = (name: string, text: string | (() => string), want: Case['want'] = 'error', file = 'tokenizer.json') =>
    cases.push({
      kind: 'tokenizer',
      name,
      target: 'model',
      want,
      names: ['tokenizer.json', 'vocab.json', 'merges.txt'],
      setup: async (root) => writeFile(model(root, file), typeof text === 'function' ? text() : text),
    });
  const tokWith = (edit: (t: any) => void) => {
    const t = structuredClone(tokJson);
    edit(t);
    return JSON.stringify(t);
  };
  const vocabKeys = Object.keys(tokJson.model.vocab);
  for (const text of ['', '{', '[]', 'null', '"x"']) tok_(`not a JSON object: ${JSON.stringify(text)}`, text);
  tok_('random bytes', () => String.fromCharCode(...Array.from({ length: 300 }, () => randInt(256))));
  // Each refused as `tokenizers` refuses it (WordLevel: this BPE's unk_token is null).
  for (const type of ['WordPiece', 'Unigram', 'WordLevel', 5, null, 'constructor'])
    tok_(
      `model.type ${JSON.stringify(type)}`,
      tokWith((t) => {
        t.model.type = type;
      }),
    );
  tok_(
    'no model',
    tokWith((t) => {
      delete t.model;
    }),
  );
  tok_(
    'model.vocab missing',
    tokWith((t) => {
      delete t.model.vocab;
    }),
  );
  tok_(
    'model.vocab an array',
    tokWith((t) => {
      t.model.vocab = vocabKeys;
    }),
  );
  for (const id of [-1, 1.5, '3', 1e9, 2 ** 31, 2 ** 26, null])
    tok_(
      `a vocab id ${JSON.stringify(id)}`,
      tokWith((t) => {
        t.model.vocab[pick(vocabKeys)] = id;
      }),
    );
  tok_(
    'a new token with id 299 (fits the model)',
    tokWith((t) => {
      t.model.vocab.zzzq = 299;
    }),
    'ok',
  );
  tok_(
    'a new token with id 300 (past the model)',
    tokWith((t) => {
      t.model.vocab.zzzq = 300;
    }),
  );
  tok_(
    'a new token with id 5000',
    tokWith((t) => {
      t.model.vocab.zzzq = 5000;
    }),
  );
  tok_(
    'two tokens share an id',
    tokWith((t) => {
      t.model.vocab[vocabKeys[5]] = t.model.vocab[vocabKeys[6]];
    }),
  );
  tok_(
    'model.merges missing (valid: no merges, as tokenizers reads it)',
    tokWith((t) => {
      delete t.model.merges;
    }),
    'ok',
  );
  tok_(
    'a merge of unknown tokens',
    tokWith((t) => {
      t.model.merges.push(['qqq', 'www']);
    }),
  );
  tok_(
    'a merge that is not a pair',
    tokWith((t) => {
      t.model.merges[0] = ['a'];
    }),
  );
  tok_(
    'a merge string of unknown tokens',
    tokWith((t) => {
      t.model.merges[0] = 'qqq www';
    }),
  );
  tok_(
    'merges an object',
    tokWith((t) => {
      t.model.merges = { a: 'b' };
    }),
  );
  for (const id of [1e9, 300, 2 ** 31 - 1])
    tok_(
      `an added token with id ${id}`,
      tokWith((t) => {
        t.added_tokens.push({ ...t.added_tokens[0], id, content: '<|x|>' });
      }),
    );
  tok_(
    'added_tokens an object',
    tokWith((t) => {
      t.added_tokens = { a: 1 };
    }),
  );
  tok_(
    'an empty added token',
    tokWith((t) => {
      t.added_tokens[0].content = '';
    }),
  );
  tok_(
    'an added token given twice',
    tokWith((t) => {
      t.added_tokens.push({ ...t.added_tokens[0], id: 280 });
    }),
  );
  const template = (ids: unknown, name = '<s>') => ({
    type: 'TemplateProcessing',
    single: [{ SpecialToken: { id: name, type_id: 0 } }, { Sequence: { id: 'A', type_id: 0 } }],
    pair: [],
    special_tokens: { [name]: { id: name, ids, tokens: [name] } },
  });
  tok_(
    'a template token id 5000',
    tokWith((t) => {
      t.post_processor = template([5000]);
    }),
  );
  tok_(
    'a template token id "1"',
    tokWith((t) => {
      t.post_processor = template(['1']);
    }),
  );
  tok_(
    'a template naming __proto__',
    tokWith((t) => {
      t.post_processor = { ...template([1]), special_tokens: {} };
      t.post_processor.single[0].SpecialToken.id = '__proto__';
    }),
  );
  tok_(
    'a template token id 5 (valid)',
    tokWith((t) => {
      t.post_processor = template([5]);
    }),
    'ok',
  );
  // Both load since the tokenizer pipeline reads every tokenizer.json (a Whitespace pre-tokenizer;
  // no decoder: tokens are joined as they are, as `tokenizers` does).
  tok_(
    'pre_tokenizer Whitespace',
    tokWith((t) => {
      t.pre_tokenizer = { type: 'Whitespace' };
    }),
    'ok',
  );
  tok_(
    'no decoder',
    tokWith((t) => {
      delete t.decoder;
    }),
    'ok',
  );
  for (const [what, make] of [
    ['a FIFO', fifo],
    ['a symlink to /dev/zero', zero],
    ['a directory', directory],
  ] as const) {
    special(`tokenizer.json is ${what}`, 'model', 'tokenizer', (root) => model(root, 'tokenizer.json'), ['tokenizer.json'], make);
  }
  const vm = (name: string, vocab: string, merges: string, want: Case['want'] = 'error') =>
    cases.push({
      kind: 'tokenizer',
      name,
      target: 'model',
      want,
      names: ['vocab.json', 'merges.txt'],
      setup: async (root) => {
        await rm(model(root, 'tokenizer.json'));
        await writeFile(model(root, 'vocab.json'), vocab);
        await writeFile(model(root, 'merges.txt'), merges);
      },
    });
  const mergesTxt = '#version: 0.2\n' + tokJson.model.merges.map((m: string[]) => m.join(' ')).join('\n') + '\n';
  vm('vocab.json + merges.txt (valid)', JSON.stringify(tokJson.model.vocab), mergesTxt, 'ok');
  vm('vocab.json an array', JSON.stringify(vocabKeys), mergesTxt);
  vm('merges.txt with unknown tokens', JSON.stringify(tokJson.model.vocab), mergesTxt + 'qqq www\n');
  vm('vocab.json ids past the model', JSON.stringify({ ...tokJson.model.vocab, zzzq: 400 }), mergesTxt);

  // -- adapter_config.json through fromPretrained(adapter)
  const ad_ = (name: string, text: string | ((root: string) => string), want: Case['want'] = 'error', extra?: (root: string) => Promise<void>) =>
    cases.push({
      kind: 'adapter_config.json',
      name,
      target: 'adapter',
      want,
      names: ['adapter_config.json', 'adapter_model.safetensors'],
      setup: async (root) => {
        await extra?.(root);
        await writeFile(join(root, 'adapter', 'adapter_config.json'), typeof text === 'function' ? text(root) : text);
      },
    });
  const adWith = (edit: Record<string, unknown>) => JSON.stringify({ ...adapterCfg, ...edit });
  const withConfig = async (root: string) => {
    await cp(model(root, 'config.json'), join(root, 'adapter', 'config.json'));
  };
  ad_('base_model_name_or_path "." (with a config.json beside)', adWith({ base_model_name_or_path: '.' }), 'error', withConfig);
  ad_('base_model_name_or_path "." ', adWith({ base_model_name_or_path: '.' }));
  ad_('base_model_name_or_path its own absolute path', (root) => adWith({ base_model_name_or_path: join(root, 'adapter') }));
  ad_('base_model_name_or_path "../adapter"', adWith({ base_model_name_or_path: '../adapter' }));
  ad_('a → b → a', adWith({ base_model_name_or_path: '../b' }), 'error', async (root) => {
    await cp(join(root, 'adapter'), join(root, 'b'), { recursive: true });
    await writeFile(join(root, 'b', 'adapter_config.json'), adWith({ base_model_name_or_path: '../adapter' }));
  });
  ad_('a → b → model (valid stack)', adWith({ base_model_name_or_path: '../b' }), 'ok', async (root) => {
    await cp(join(root, 'adapter'), join(root, 'b'), { recursive: true });
  });
  for (const p of ['(.*)*(.*)*X', '(a+)+$', '(x+x+)+y', '(.*a){12}', '(\\w+\\s?)*$', '^(([a-z])+.)+[A-Z]([a-z])+$', '((.*)*)*c_attnX'])
    ad_(`target_modules ${JSON.stringify(p)} (catastrophic in a backtracking engine)`, adWith({ target_modules: p }));
  for (const p of ['(c)\\1', '(?=c)c_attn', '(?<!x).*c_attn', '(?!x).*', '(', '[', '*']) ad_(`target_modules ${JSON.stringify(p)} (not RE2)`, adWith({ target_modules: p }));
  for (const t of [5, null, [], [1], {}, '', [null]]) ad_(`target_modules ${JSON.stringify(t)}`, adWith({ target_modules: t }));
  for (const r of [0, -1, 1.5, '8', 1e9, null, 2 ** 53]) ad_(`r ${JSON.stringify(r)}`, adWith({ r }));
  for (const [k, v] of [
    ['lora_alpha', 'x'],
    ['lora_dropout', 2],
    ['use_rslora', 'yes'],
    ['peft_type', 'IA3'],
    ['peft_type', undefined],
    ['use_dora', true],
    ['rank_pattern', { a: 1 }],
  ] as const) {
    ad_(`${k} ${JSON.stringify(v)}`, adWith({ [k]: v }));
  }
  for (const b of ['../../../../etc', '/nonexistent-nabla-model', null, 5, '', '../model/config.json'])
    ad_(`base_model_name_or_path ${JSON.stringify(b)}`, adWith({ base_model_name_or_path: b }));
  for (const text of ['', '{', '[]', 'null']) ad_(`not a JSON object: ${JSON.stringify(text)}`, text);
  ad_('17 MiB adapter_config.json', () => adWith({ pad: ' '.repeat(17 * 2 ** 20) }));
  ad_('target_modules ".*c_attn" (valid)', adWith({ target_modules: '.*c_attn' }), 'ok');
  ad_('target_modules ["attn.c_attn"] (valid)', adWith({ target_modules: ['attn.c_attn'] }), 'ok');
  for (const [what, make] of [
    ['a FIFO', fifo],
    ['a symlink to /dev/zero', zero],
  ] as const) {
    special(`adapter_config.json is ${what}`, 'adapter', 'adapter_config.json', (root) => join(root, 'adapter', 'adapter_config.json'), ['adapter_config.json'], make);
    special(`adapter_model.safetensors is ${what}`, 'adapter', 'adapter_config.json', (root) => join(root, 'adapter', 'adapter_model.safetensors'), ['adapter_model.safetensors'], make);
  }

  // -- sharded weights: model.safetensors.index.json
  const half = Math.ceil(names.length / 2);
  const shardNames = ['model-00001-of-00002.safetensors', 'model-00002-of-00002.safetensors'];
  const parts = [names.slice(0, half), names.slice(half)];
  const shardBytes = parts.map((keys) => {
    const raw = nb.io.decodeSafetensors(st).tensors;
    return nb.io.encodeSafetensors(new Map(keys.map((k) => [k, raw.get(k)!])), { format: 'pt' });
  });
  const goodMap = Object.fromEntries(parts.flatMap((keys, i) => keys.map((k) => [k, shardNames[i]])));
  const ix_ = (name: string, index: string | null, want: Case['want'] = 'error', extra?: (root: string) => Promise<void>) =>
    cases.push({
      kind: 'index',
      name,
      target: 'model',
      want,
      names: ['model.safetensors.index.json', ...shardNames],
      setup: async (root) => {
        await rm(stFile(root));
        for (const [i, f] of shardNames.entries()) await writeFile(model(root, f), shardBytes[i]);
        if (index !== null) await writeFile(model(root, 'model.safetensors.index.json'), index);
        await extra?.(root);
      },
    });
  const ixWith = (map: unknown) => JSON.stringify({ metadata: {}, weight_map: map });
  ix_('two shards (valid)', ixWith(goodMap), 'ok');
  for (const p of ['../../../../etc/passwd', '/etc/passwd', '..', '../model/model-00001-of-00002.safetensors', 'a/../../b', 'C:\\Windows\\x', '\\\\server\\share\\x', '.']) {
    ix_(`an entry ${JSON.stringify(p)}`, ixWith({ ...goodMap, [pick(names)]: p }));
  }
  for (const m of [[1, 2], null, 5, 'model.safetensors', {}]) ix_(`weight_map ${JSON.stringify(m)}`, ixWith(m));
  ix_('no weight_map', JSON.stringify({ metadata: {} }));
  for (const v of [5, null, {}, '']) ix_(`an entry ${JSON.stringify(v)}`, ixWith({ ...goodMap, [names[0]]: v }));
  ix_('an entry naming a missing shard', ixWith({ ...goodMap, [names[0]]: 'model-00003-of-00003.safetensors' }));
  ix_('an entry naming the wrong shard', ixWith({ ...goodMap, [names[0]]: shardNames[1] }));
  ix_('a tensor in both shards', ixWith(goodMap), 'error', async (root) => {
    const raw = nb.io.decodeSafetensors(st).tensors;
    await writeFile(model(root, shardNames[1]), nb.io.encodeSafetensors(new Map([...parts[1], names[0]].map((k) => [k, raw.get(k)!]))));
  });
  ix_('index not JSON', '{"weight_map": ');
  ix_('index over 64 MiB', null, 'error', async (root) => {
    await writeFile(model(root, 'model.safetensors.index.json'), ixWith(goodMap) + ' '.repeat(65 * 2 ** 20));
  });
  for (const [what, make] of [
    ['a FIFO', fifo],
    ['a symlink to /dev/zero', zero],
  ] as const) {
    if (!posix) continue;
    ix_(`the index is ${what}`, null, 'error', async (root) => make(model(root, 'model.safetensors.index.json')));
    ix_(`a shard is ${what}`, ixWith(goodMap), 'error', async (root) => {
      await rm(model(root, shardNames[1]));
      await make(model(root, shardNames[1]));
    });
  }
  return cases;
}

// ---- running them

type Outcome = 'loaded' | 'rejected' | 'wrong error' | 'unnamed file' | 'should have loaded' | 'should have failed' | 'too slow';

async function runOne(c: Case, root: string): Promise<{ outcome: Outcome; ms: number; detail: string }> {
  const t0 = performance.now();
  let timer: ReturnType<typeof setTimeout> | undefined;
  const load = async (): Promise<void> => {
    if (c.target === 'safetensors') {
      const { tensors } = await nb.io.loadSafetensors(join(root, 'model', 'model.safetensors'));
      for (const t of tensors.values()) t.dispose();
    } else {
      const { model } = await fromPretrained(join(root, c.target));
      for (const t of new Set(Object.values(model.stateDict()))) t.dispose();
    }
  };
  const timeout = new Promise<'timeout'>((r) => {
    timer = setTimeout(() => r('timeout'), 4 * CASE_MS);
  });
  const result = await Promise.race([
    load().then(
      () => null,
      (e: unknown) => e,
    ),
    timeout,
  ]);
  clearTimeout(timer);
  const ms = performance.now() - t0;
  if (result === 'timeout') return { outcome: 'too slow', ms, detail: 'still running' };
  if (ms > CASE_MS) return { outcome: 'too slow', ms, detail: `${ms.toFixed(0)} ms` };
  if (result === null) return c.want === 'error' ? { outcome: 'should have failed', ms, detail: 'loaded' } : { outcome: 'loaded', ms, detail: '' };
  const e = result as Error;
  const msg = e instanceof Error ? e.message : String(e);
  if (!(e instanceof Error) || e instanceof TypeError || e instanceof RangeError || e instanceof SyntaxError || e instanceof ReferenceError) {
    return { outcome: 'wrong error', ms, detail: `${(e as Error)?.constructor?.name}: ${msg}` };
  }
  if (c.want === 'ok') return { outcome: 'should have loaded', ms, detail: msg };
  if (!c.names.some((n) => msg.includes(n))) return { outcome: 'unnamed file', ms, detail: msg };
  return { outcome: 'rejected', ms, detail: msg };
}

describe('fuzzed model files', () => {
  it('load correctly or fail with an Error naming the file, quickly, with bounded memory', async () => {
    const base = await makeBase();
    const st = new Uint8Array(await readFile(join(base, 'model', 'model.safetensors')));
    const config = JSON.parse(await readFile(join(base, 'model', 'config.json'), 'utf8'));
    const tok = JSON.parse(await readFile(join(base, 'model', 'tokenizer.json'), 'utf8'));
    const adapterCfg = JSON.parse(await readFile(join(base, 'adapter', 'adapter_config.json'), 'utf8'));
    const cases = buildCases(st, config, tok, adapterCfg);
    const work = await tempDir('nabla-fuzz-');
    const rss0 = process.memoryUsage().rss;
    let rssMax = rss0;
    const table = new Map<Kind, Map<Outcome, number>>();
    const problems: string[] = [];
    let slowest = 0;
    for (const [i, c] of cases.entries()) {
      const root = join(work, String(i));
      await cp(base, root, { recursive: true });
      await c.setup(root);
      const { outcome, ms, detail } = await runOne(c, root);
      slowest = Math.max(slowest, ms);
      const row = table.get(c.kind) ?? new Map<Outcome, number>();
      row.set(outcome, (row.get(outcome) ?? 0) + 1);
      table.set(c.kind, row);
      if (process.env.NABLA_FUZZ_LOG) console.log(`${c.kind} | ${c.name} | ${outcome} | ${detail}`);
      if (outcome !== 'loaded' && outcome !== 'rejected') problems.push(`${c.kind}: ${c.name}: ${outcome}: ${detail}`);
      await rm(root, { recursive: true, force: true });
      rssMax = Math.max(rssMax, process.memoryUsage().rss);
    }
    const outcomes: Outcome[] = ['loaded', 'rejected', 'wrong error', 'unnamed file', 'should have loaded', 'should have failed', 'too slow'];
    const rows = [...table].map(([kind, row]) => ({ kind, inputs: [...row.values()].reduce((a, b) => a + b, 0), ...Object.fromEntries(outcomes.map((o) => [o, row.get(o) ?? 0])) }));
    console.log(`fuzz: ${cases.length} inputs, slowest ${slowest.toFixed(0)} ms, RSS growth ${((rssMax - rss0) / 2 ** 20).toFixed(0)} MB`);
    console.table(rows);
    if (skipped.length) console.log(`fuzz: skipped ${skipped.length}: ${skipped.join('; ')}`);
    expect(problems).toEqual([]);
    expect(cases.length).toBeGreaterThanOrEqual(200);
    expect(rssMax - rss0).toBeLessThan(RSS_LIMIT);
  }, 120_000);
});
