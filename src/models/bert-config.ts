// The configuration of the BERT family of encoders (BERT, DistilBERT, RoBERTa): the typed config with
// its defaults and presets, the task heads by transformers' class names, and config.json ↔ config as
// transformers' BertConfig, DistilBertConfig and RobertaConfig read and write it. Below bert.ts, so
// the file format (bert-files.ts) can name it without importing the model.

/** The encoder families this config describes, by config.json's model_type. */
export type BertFamily = 'bert' | 'distilbert' | 'roberta';

/** The activations of the feed-forward block (hidden_act, DistilBERT's activation), as transformers' ACT2FN names them. */
export type BertActivation = 'gelu' | 'gelu_new' | 'gelu_pytorch_tanh' | 'relu' | 'silu' | 'swish';

/** How a sequence classifier's loss is computed (config.json's problem_type), as transformers chooses it. */
export type BertProblemType = 'single_label_classification' | 'multi_label_classification' | 'regression';

/** The heads on the encoder: what each transformers class computes, by the task it serves. */
export type BertHead = 'base' | 'sequenceClassification' | 'tokenClassification' | 'questionAnswering' | 'maskedLM';

/**
 * The architecture of a BERT-family encoder (transformers' BertConfig, DistilBertConfig and
 * RobertaConfig). The names shared with GPTConfig (vocabSize, nPositions, nEmbd, nLayer, nHead,
 * nInner) mean the same; the config.json name of each field is given (BERT's, then DistilBERT's).
 */
export interface BertConfig {
  /** config.json's model_type: which layout of names and positions (default 'bert'). */
  family: BertFamily;
  /** Tokens in the vocabulary (vocab_size). */
  vocabSize: number;
  /** Rows of the position table (max_position_embeddings). RoBERTa's first pad_token_id + 1 rows are never used, so a sequence has at most nPositions − pad_token_id − 1 tokens. */
  nPositions: number;
  /** Width of the hidden states (hidden_size; dim). */
  nEmbd: number;
  /** Encoder layers (num_hidden_layers; n_layers). */
  nLayer: number;
  /** Attention heads (num_attention_heads; n_heads); must divide nEmbd. */
  nHead: number;
  /** Hidden width of the feed-forward block (intermediate_size; hidden_dim). */
  nInner: number;
  /** Segment ids the token-type table holds (type_vocab_size: 2 for BERT, 1 for RoBERTa); 0 for DistilBERT, which has none. */
  typeVocabSize: number;
  /** Every LayerNorm's eps (layer_norm_eps; DistilBERT's is fixed at 1e-12). */
  layerNormEps: number;
  /** The feed-forward activation (hidden_act; activation), also used by BERT's and DistilBERT's masked-LM transform. */
  hiddenAct: BertActivation;
  /** Dropout on embeddings and sub-layer outputs while training (hidden_dropout_prob; dropout). */
  hiddenDropout: number;
  /** Dropout on the attention weights while training (attention_probs_dropout_prob; attention_dropout). */
  attentionDropout: number;
  /** Dropout before BERT's and RoBERTa's classifiers (classifier_dropout); null means hiddenDropout. */
  classifierDropout: number | null;
  /** DistilBERT's dropout before the question-answering head (qa_dropout). */
  qaDropout: number;
  /** DistilBERT's dropout before the sequence classifier (seq_classif_dropout). */
  seqClassifDropout: number;
  /** DistilBERT's fixed sinusoidal position table (sinusoidal_pos_embds) instead of a learned one. */
  sinusoidalPositions: boolean;
  /** The padding token (pad_token_id): its embedding row starts at zero; RoBERTa counts positions from pad_token_id + 1. */
  padTokenId: number | null;
  bosTokenId: number | null;
  eosTokenId: number | null;
  /** The std of the normal init of every matrix and embedding (initializer_range; default 0.02). */
  initializerRange: number;
  /** The masked-LM decoder shares its weight with the word embeddings (tie_word_embeddings). */
  tieWeights: boolean;
  /** Class names in id order (id2label; transformers' default is LABEL_0, LABEL_1). */
  labels: string[];
  /** The sequence classifier's loss (problem_type); null: chosen from the labels as transformers does. */
  problemType: BertProblemType | null;
}

const BASE = {
  family: 'bert',
  typeVocabSize: 2,
  layerNormEps: 1e-12,
  hiddenAct: 'gelu',
  hiddenDropout: 0.1,
  attentionDropout: 0.1,
  classifierDropout: null,
  qaDropout: 0.1,
  seqClassifDropout: 0.2,
  sinusoidalPositions: false,
  padTokenId: 0,
  bosTokenId: null,
  eosTokenId: null,
  initializerRange: 0.02,
  tieWeights: true,
  labels: ['LABEL_0', 'LABEL_1'],
  problemType: null,
} as const satisfies Partial<BertConfig>;

/** Named configs. No prototype, so a name from a user or a file (`__proto__`, `constructor`) finds nothing. */
export const BERT_PRESETS: Record<string, BertConfig> = Object.assign(Object.create(null), {
  /** A model for tests and demos: 2 layers, 4 heads, 64 wide, 128 positions, BERT's vocabulary size. */
  tiny: { ...BASE, labels: [...BASE.labels], vocabSize: 30522, nPositions: 128, nEmbd: 64, nLayer: 2, nHead: 4, nInner: 256 },
  /** bert-base-uncased's shape: 12 layers, 12 heads, 768 wide. */
  'bert-base': { ...BASE, labels: [...BASE.labels], vocabSize: 30522, nPositions: 512, nEmbd: 768, nLayer: 12, nHead: 12, nInner: 3072 },
  /** distilbert-base-uncased's shape: 6 layers of bert-base's width. */
  'distilbert-base': {
    ...BASE,
    labels: [...BASE.labels],
    family: 'distilbert',
    typeVocabSize: 0,
    vocabSize: 30522,
    nPositions: 512,
    nEmbd: 768,
    nLayer: 6,
    nHead: 12,
    nInner: 3072,
  },
  /** roberta-base's shape: bert-base's trunk, 50265 tokens, pad 1 with positions from 2, one token type. */
  'roberta-base': {
    ...BASE,
    labels: [...BASE.labels],
    family: 'roberta',
    typeVocabSize: 1,
    layerNormEps: 1e-5,
    vocabSize: 50265,
    nPositions: 514,
    nEmbd: 768,
    nLayer: 12,
    nHead: 12,
    nInner: 3072,
    padTokenId: 1,
    bosTokenId: 0,
    eosTokenId: 2,
  },
  /** all-MiniLM-L6-v2's shape (sentence-transformers): 6 layers, 12 heads, 384 wide. */
  'minilm-l6': { ...BASE, labels: [...BASE.labels], vocabSize: 30522, nPositions: 512, nEmbd: 384, nLayer: 6, nHead: 12, nInner: 1536 },
});

const ACTIVATIONS: readonly string[] = ['gelu', 'gelu_new', 'gelu_pytorch_tanh', 'relu', 'silu', 'swish'];
const PROBLEM_TYPES: readonly string[] = ['single_label_classification', 'multi_label_classification', 'regression'];

/** Check a config's numbers and their relations; errors name the field and what it must be. */
export function checkBertConfig(c: BertConfig, where = 'Bert'): void {
  if (!Object.hasOwn(BERT_ARCHITECTURES, c.family)) throw new Error(`${where}: family must be bert, distilbert or roberta, got ${JSON.stringify(c.family)}`);
  for (const k of ['vocabSize', 'nPositions', 'nEmbd', 'nLayer', 'nHead', 'nInner'] as const) {
    if (!Number.isSafeInteger(c[k]) || c[k] < 1) throw new Error(`${where}: ${k} must be a positive integer, got ${c[k]}`);
  }
  if (c.nEmbd % c.nHead !== 0) throw new Error(`${where}: nEmbd ${c.nEmbd} is not divisible by nHead ${c.nHead} (each head takes nEmbd / nHead features)`);
  if (!Number.isSafeInteger(c.typeVocabSize) || c.typeVocabSize < 0) throw new Error(`${where}: typeVocabSize must be a non-negative integer, got ${c.typeVocabSize}`);
  if (c.family === 'distilbert' ? c.typeVocabSize !== 0 : c.typeVocabSize < 1) {
    throw new Error(`${where}: typeVocabSize must be ${c.family === 'distilbert' ? '0 for distilbert (it has no token types)' : 'at least 1'}, got ${c.typeVocabSize}`);
  }
  if (!(c.layerNormEps > 0 && Number.isFinite(c.layerNormEps))) throw new Error(`${where}: layerNormEps must be a positive number, got ${c.layerNormEps}`);
  if (!ACTIVATIONS.includes(c.hiddenAct)) throw new Error(`${where}: hiddenAct must be one of ${ACTIVATIONS.join(', ')}, got ${JSON.stringify(c.hiddenAct)}`);
  for (const k of ['hiddenDropout', 'attentionDropout', 'qaDropout', 'seqClassifDropout'] as const) {
    if (!(c[k] >= 0 && c[k] < 1)) throw new Error(`${where}: ${k} must be in [0, 1), got ${c[k]}`);
  }
  if (c.classifierDropout !== null && !(c.classifierDropout >= 0 && c.classifierDropout < 1))
    throw new Error(`${where}: classifierDropout must be null or in [0, 1), got ${c.classifierDropout}`);
  if (c.sinusoidalPositions && c.family !== 'distilbert') throw new Error(`${where}: sinusoidalPositions is DistilBERT's (sinusoidal_pos_embds); ${c.family} learns its positions`);
  if (c.sinusoidalPositions && c.nEmbd % 2 !== 0) throw new Error(`${where}: a sinusoidal position table needs an even nEmbd, got ${c.nEmbd}`);
  if (c.padTokenId !== null && !(Number.isSafeInteger(c.padTokenId) && c.padTokenId >= 0 && c.padTokenId < c.vocabSize)) {
    throw new Error(`${where}: padTokenId must be null or an id below vocabSize ${c.vocabSize}, got ${c.padTokenId}`);
  }
  if (c.family === 'roberta') {
    if (c.padTokenId === null) throw new Error(`${where}: roberta needs a padTokenId (positions count from pad_token_id + 1)`);
    if (c.padTokenId + 2 > c.nPositions) throw new Error(`${where}: roberta's positions start at padTokenId + 1 = ${c.padTokenId + 1}, beyond nPositions ${c.nPositions}`);
  }
  if (!Array.isArray(c.labels) || c.labels.length < 1 || c.labels.some((l) => typeof l !== 'string')) {
    throw new Error(`${where}: labels must list at least one class name, got ${JSON.stringify(c.labels)}`);
  }
  if (c.problemType !== null && !PROBLEM_TYPES.includes(c.problemType))
    throw new Error(`${where}: problemType must be null or one of ${PROBLEM_TYPES.join(', ')}, got ${JSON.stringify(c.problemType)}`);
  if (!(c.initializerRange >= 0 && Number.isFinite(c.initializerRange))) throw new Error(`${where}: initializerRange must be a non-negative number, got ${c.initializerRange}`);
}

// ---------------------------------------------------------------------------------------------
// config.json

/** transformers' class for each family and head, as config.json's architectures names them. */
export const BERT_ARCHITECTURES: Record<BertFamily, Record<BertHead, string>> = {
  bert: {
    base: 'BertModel',
    sequenceClassification: 'BertForSequenceClassification',
    tokenClassification: 'BertForTokenClassification',
    questionAnswering: 'BertForQuestionAnswering',
    maskedLM: 'BertForMaskedLM',
  },
  distilbert: {
    base: 'DistilBertModel',
    sequenceClassification: 'DistilBertForSequenceClassification',
    tokenClassification: 'DistilBertForTokenClassification',
    questionAnswering: 'DistilBertForQuestionAnswering',
    maskedLM: 'DistilBertForMaskedLM',
  },
  roberta: {
    base: 'RobertaModel',
    sequenceClassification: 'RobertaForSequenceClassification',
    tokenClassification: 'RobertaForTokenClassification',
    questionAnswering: 'RobertaForQuestionAnswering',
    maskedLM: 'RobertaForMaskedLM',
  },
};

/** Classes whose weights hold a head nabla has under another name: BertForPreTraining's cls.predictions is the masked-LM head (its next-sentence head is not read). */
const ALIASES: Record<string, BertHead> = { BertForPreTraining: 'maskedLM' };

/**
 * The head config.json's architectures asks for ('base' when it names none). A class nabla does
 * not have (multiple choice, next-sentence prediction, causal LM) is an error naming those it has.
 */
export function bertHeadOf(family: BertFamily, architectures: unknown, where = 'fromPretrained', file = 'config.json'): BertHead {
  const archs: unknown[] = Array.isArray(architectures) ? architectures : [];
  const names = BERT_ARCHITECTURES[family];
  for (const a of archs) {
    for (const [head, name] of Object.entries(names)) if (a === name) return head as BertHead;
    if (typeof a === 'string' && Object.hasOwn(ALIASES, a) && family === 'bert') return ALIASES[a];
  }
  if (archs.length)
    throw new Error(`${where}: ${file}: architectures ${JSON.stringify(archs)} is not supported; the ${family} classes nabla loads are ${Object.values(names).join(', ')}`);
  return 'base';
}

/** transformers' defaults that differ between the families (the config classes' field defaults). */
const FAMILY_DEFAULTS: Record<BertFamily, { typeVocab: number; pad: number; bos: number | null; eos: number | null }> = {
  bert: { typeVocab: 2, pad: 0, bos: null, eos: null },
  distilbert: { typeVocab: 0, pad: 0, bos: null, eos: null },
  roberta: { typeVocab: 2, pad: 1, bos: 0, eos: 2 },
};

/**
 * A BertConfig from a transformers BertConfig, DistilBertConfig or RobertaConfig (config.json);
 * unsupported variants (relative position embeddings, a decoder with cross-attention), ill-typed and
 * out-of-range fields are errors that name `file` and the field.
 */
// biome-ignore lint/suspicious/noExplicitAny: config.json as read; each field is checked below
export function bertConfigFromHF(j: Record<string, any>, where = 'Bert.fromPretrained', file = 'config.json'): BertConfig {
  const bad = (msg: string): never => {
    throw new Error(`${where}: ${file}: ${msg}`);
  };
  const show = (v: unknown) => (typeof v === 'number' ? String(v) : JSON.stringify(v));
  const has = (k: string) => Object.hasOwn(j, k) && j[k] !== null && j[k] !== undefined;
  const family = j.model_type as BertFamily;
  if (!Object.hasOwn(BERT_ARCHITECTURES, family)) bad(`model_type ${show(j.model_type)} is not one of ${Object.keys(BERT_ARCHITECTURES).join(', ')}`);
  const d = FAMILY_DEFAULTS[family];
  const distil = family === 'distilbert';
  /** The config.json name of a field: BERT's, or DistilBERT's own. */
  const key = (bert: string, distilbert: string) => (distil ? distilbert : bert);
  const int = (k: string, dflt?: number, min = 1): number => {
    if (!has(k) && dflt === undefined) bad(`${k} is missing`);
    const v = has(k) ? j[k] : dflt;
    if (!(Number.isSafeInteger(v) && v >= min)) bad(`${k} must be ${min === 1 ? 'a positive' : 'a non-negative'} integer, got ${show(v)}`);
    return v;
  };
  const prob = (k: string, dflt: number): number => {
    const v = has(k) ? j[k] : dflt;
    if (!(typeof v === 'number' && v >= 0 && v < 1)) bad(`${k} must be a number in [0, 1), got ${show(v)}`);
    return v;
  };
  const bool = (k: string, dflt: boolean): boolean => {
    const v = has(k) ? j[k] : dflt;
    if (typeof v !== 'boolean') bad(`${k} must be true or false, got ${show(v)}`);
    return v;
  };
  const tokenId = (k: string, dflt: number | null): number | null => {
    const v = Object.hasOwn(j, k) ? j[k] : dflt;
    if (v === null || v === undefined) return null;
    const first = Array.isArray(v) ? v[0] : v;
    if (!(Number.isSafeInteger(first) && first >= 0)) bad(`${k} must be null or a non-negative integer, got ${show(v)}`);
    return first;
  };

  bertHeadOf(family, j.architectures, where, file);
  // Variants that change the computation: refused rather than silently ignored.
  const pet = j.position_embedding_type;
  if (pet !== undefined && pet !== null && pet !== 'absolute') {
    bad(`position_embedding_type ${show(pet)} is not supported; nabla's BERT encoders use absolute position embeddings (relative_key and relative_key_query are not implemented)`);
  }
  if (j.is_decoder === true) bad('sets is_decoder (a causal BERT decoder); nabla loads BERT-family models as bidirectional encoders only');
  if (j.add_cross_attention === true) bad('sets add_cross_attention; encoder-decoder BERT models are not supported');
  if (has('embedding_size') && j.embedding_size !== j.hidden_size)
    bad(`embedding_size ${show(j.embedding_size)} differs from hidden_size (factorised embeddings, as ALBERT or ELECTRA), which is not supported`);
  if (has('quantization_config')) bad('sets quantization_config; quantized checkpoints are not supported');
  const actKey = key('hidden_act', 'activation');
  const act = has(actKey) ? j[actKey] : 'gelu';
  if (!ACTIVATIONS.includes(act)) bad(`${actKey} ${show(act)} is not supported; supported: ${ACTIVATIONS.join(', ')}`);

  const nEmbd = int(key('hidden_size', 'dim'), distil ? 768 : undefined),
    nHead = int(key('num_attention_heads', 'n_heads'), distil ? 12 : undefined);
  if (nEmbd % nHead !== 0) bad(`${key('hidden_size', 'dim')} ${nEmbd} is not divisible by ${key('num_attention_heads', 'n_heads')} ${nHead}`);
  const vocabSize = int('vocab_size', 30522);
  const nPositions = int('max_position_embeddings', 512);
  const pad = tokenId('pad_token_id', d.pad);
  if (pad !== null && pad >= vocabSize) bad(`pad_token_id ${pad} is not below vocab_size ${vocabSize}`);
  if (family === 'roberta' && pad === null) bad('pad_token_id is null; RoBERTa counts positions from pad_token_id + 1 and needs one');

  // id2label: keys are the ids as strings; num_labels alone (transformers' shorthand) gives LABEL_i.
  let labels: string[];
  if (has('id2label')) {
    const m = j.id2label;
    if (typeof m !== 'object' || Array.isArray(m)) bad(`id2label must be an object of id → label, got ${show(m)}`);
    const ids = Object.keys(m).map(Number);
    if (ids.length === 0 || ids.some((i) => !Number.isSafeInteger(i) || i < 0) || new Set(ids).size !== ids.length)
      bad(`id2label's keys must be the ids 0 to n − 1, got ${show(Object.keys(m))}`);
    ids.sort((a, b) => a - b);
    if (ids.some((i, n) => i !== n)) bad(`id2label's keys must be the ids 0 to n − 1, got ${show(Object.keys(m))}`);
    labels = ids.map((i) => {
      const l = m[String(i)];
      if (typeof l !== 'string') bad(`id2label[${i}] must be a string, got ${show(l)}`);
      return l;
    });
  } else labels = Array.from({ length: int('num_labels', 2) }, (_, i) => `LABEL_${i}`);
  if (has('num_labels') && j.num_labels !== labels.length) bad(`num_labels ${show(j.num_labels)} disagrees with the ${labels.length} labels of id2label`);
  const problemType = has('problem_type') ? j.problem_type : null;
  if (problemType !== null && !PROBLEM_TYPES.includes(problemType)) bad(`problem_type ${show(problemType)} is not one of ${PROBLEM_TYPES.join(', ')}`);

  const c: BertConfig = {
    family,
    vocabSize,
    nPositions,
    nEmbd,
    nLayer: int(key('num_hidden_layers', 'n_layers'), distil ? 6 : undefined),
    nHead,
    nInner: int(key('intermediate_size', 'hidden_dim'), distil ? 4 * 768 : undefined),
    typeVocabSize: distil ? 0 : int('type_vocab_size', d.typeVocab),
    layerNormEps: distil ? 1e-12 : has('layer_norm_eps') ? j.layer_norm_eps : 1e-12,
    hiddenAct: act,
    hiddenDropout: prob(key('hidden_dropout_prob', 'dropout'), 0.1),
    attentionDropout: prob(key('attention_probs_dropout_prob', 'attention_dropout'), 0.1),
    classifierDropout: !distil && has('classifier_dropout') ? prob('classifier_dropout', 0) : null,
    qaDropout: distil ? prob('qa_dropout', 0.1) : 0.1,
    seqClassifDropout: distil ? prob('seq_classif_dropout', 0.2) : 0.2,
    sinusoidalPositions: distil ? bool('sinusoidal_pos_embds', false) : false,
    padTokenId: pad,
    bosTokenId: tokenId('bos_token_id', d.bos),
    eosTokenId: tokenId('eos_token_id', d.eos),
    initializerRange: has('initializer_range') ? j.initializer_range : 0.02,
    tieWeights: bool('tie_word_embeddings', true),
    labels,
    problemType,
  };
  if (!(typeof c.layerNormEps === 'number' && c.layerNormEps > 0 && Number.isFinite(c.layerNormEps))) bad(`layer_norm_eps must be a positive number, got ${show(c.layerNormEps)}`);
  if (!(typeof c.initializerRange === 'number' && c.initializerRange >= 0 && Number.isFinite(c.initializerRange)))
    bad(`initializer_range must be a non-negative number, got ${show(c.initializerRange)}`);
  if (family === 'roberta' && pad !== null && pad + 2 > nPositions) bad(`max_position_embeddings ${nPositions} leaves no position after pad_token_id + 1 = ${pad + 1}`);
  checkBertConfig(c, `${where}: ${file}`);
  return c;
}

/**
 * transformers' config.json for a BertConfig, as *.save_pretrained writes it for the class of
 * `head` (BertForSequenceClassification, DistilBertModel, ...): DistilBERT under its own field names.
 */
export function bertConfigToHF(c: BertConfig, head: BertHead, dtype = 'float32'): Record<string, unknown> {
  checkBertConfig(c, 'Bert.savePretrained');
  if (c.family === 'distilbert' && c.layerNormEps !== 1e-12)
    throw new Error(`Bert.savePretrained: DistilBERT's LayerNorm eps is fixed at 1e-12 in transformers, got layerNormEps ${c.layerNormEps}`);
  const common = {
    architectures: [BERT_ARCHITECTURES[c.family][head]],
    bos_token_id: c.bosTokenId,
    dtype,
    eos_token_id: c.eosTokenId,
    id2label: Object.fromEntries(c.labels.map((l, i) => [String(i), l])),
    initializer_range: c.initializerRange,
    label2id: Object.fromEntries(c.labels.map((l, i) => [l, i])),
    max_position_embeddings: c.nPositions,
    model_type: c.family,
    pad_token_id: c.padTokenId,
    ...(c.problemType ? { problem_type: c.problemType } : {}),
    tie_word_embeddings: c.tieWeights,
    vocab_size: c.vocabSize,
  };
  if (c.family === 'distilbert') {
    return {
      ...common,
      activation: c.hiddenAct,
      attention_dropout: c.attentionDropout,
      dim: c.nEmbd,
      dropout: c.hiddenDropout,
      hidden_dim: c.nInner,
      n_heads: c.nHead,
      n_layers: c.nLayer,
      qa_dropout: c.qaDropout,
      seq_classif_dropout: c.seqClassifDropout,
      sinusoidal_pos_embds: c.sinusoidalPositions,
    };
  }
  return {
    ...common,
    attention_probs_dropout_prob: c.attentionDropout,
    classifier_dropout: c.classifierDropout,
    hidden_act: c.hiddenAct,
    hidden_dropout_prob: c.hiddenDropout,
    hidden_size: c.nEmbd,
    intermediate_size: c.nInner,
    layer_norm_eps: c.layerNormEps,
    num_attention_heads: c.nHead,
    num_hidden_layers: c.nLayer,
    position_embedding_type: 'absolute',
    type_vocab_size: c.typeVocabSize,
  };
}
