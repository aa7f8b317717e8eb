// The configuration of the Llama family (Llama, Qwen2, Mistral): the typed config with its defaults
// and presets, and config.json ↔ config as transformers' LlamaConfig, Qwen2Config and MistralConfig
// read and write it (rope_scaling of transformers 4 and rope_parameters of transformers 5 alike).
// Below llama.ts, so the file format (llama-files.ts) can name it without importing the model.

/**
 * How the rotary frequencies are rescaled (config.json's rope_scaling / rope_parameters), as
 * transformers' modeling_rope_utils computes them. `linear` divides every frequency by `factor`;
 * `dynamic` (NTK) raises the base for sequences longer than the context, so within it (the only
 * lengths nabla runs) it equals the default; `llama3` divides the low frequencies by `factor` and
 * interpolates the middle band (Llama 3.1/3.2).
 */
export type RopeScaling =
  | { type: 'linear'; factor: number }
  | { type: 'dynamic'; factor: number }
  | { type: 'llama3'; factor: number; lowFreqFactor: number; highFreqFactor: number; originalMaxPositionEmbeddings: number };

/** The decoder families this config describes, by config.json's model_type. */
export type LlamaFamily = 'llama' | 'qwen2' | 'mistral';

/** Whether a layer attends to every earlier position or to the last `slidingWindow` only (transformers' layer_types). */
export type LayerType = 'full_attention' | 'sliding_attention';

/**
 * The architecture of a {@link Llama} (transformers' LlamaConfig, Qwen2Config and MistralConfig).
 * The names shared with GPTConfig (vocabSize, nPositions, nEmbd, nLayer, nHead, nInner) mean the
 * same; the config.json name of each field is given. `new Llama(config)` fills what is left out
 * (see its constructor).
 */
export interface LlamaConfig {
  /** config.json's model_type: which class transformers builds (default 'llama'). */
  family: LlamaFamily;
  /** Tokens in the vocabulary (vocab_size). */
  vocabSize: number;
  /** Context length: the most positions the model sees (max_position_embeddings). */
  nPositions: number;
  /** Width of the residual stream (hidden_size). */
  nEmbd: number;
  /** Decoder layers (num_hidden_layers). */
  nLayer: number;
  /** Query heads (num_attention_heads). */
  nHead: number;
  /** Key/value heads (num_key_value_heads): nHead for multi-head attention, fewer for grouped-query attention; must divide nHead. */
  nKvHead: number;
  /** Width of one head (head_dim; transformers' default hidden_size / num_attention_heads). */
  headDim: number;
  /** Hidden width of the SwiGLU MLP (intermediate_size). */
  nInner: number;
  /** The RMSNorms' eps (rms_norm_eps). */
  rmsNormEps: number;
  /** Base of the rotary frequencies (rope_theta; default 10000). */
  ropeTheta: number;
  /** Rescaled rotary frequencies, or null for the original RoPE (rope_type 'default'). */
  ropeScaling: RopeScaling | null;
  /** Biases in q_proj, k_proj and v_proj (Llama's attention_bias; always on in Qwen2). */
  qkvBias: boolean;
  /** A bias in o_proj (Llama's attention_bias; never in Qwen2 or Mistral). */
  oBias: boolean;
  /** Biases in gate_proj, up_proj and down_proj (Llama's mlp_bias). */
  mlpBias: boolean;
  /** lm_head shares its weight with embed_tokens (tie_word_embeddings). */
  tieWeights: boolean;
  /** Keys a query sees in a sliding-attention layer, itself included (sliding_window); null = none. */
  slidingWindow: number | null;
  /** Per layer, full or sliding-window attention (layer_types); omitted: every layer sliding when slidingWindow is set, else full. */
  layerTypes?: LayerType[];
  /** Dropout on the attention weights while training (attention_dropout; default 0). */
  attentionDropout: number;
  /** The std of the normal init of every matrix and embedding (initializer_range; default 0.02). */
  initializerRange: number;
  /** Token ids written to config.json; null when there are none. eosTokenId is the first of eos_token_id when it is a list. */
  bosTokenId: number | null;
  eosTokenId: number | null;
  /** Every end-of-sequence id when config.json lists several (Llama 3's eos_token_id); else absent. */
  eosTokenIds?: number[];
  padTokenId: number | null;
}

const BASE = {
  family: 'llama',
  ropeScaling: null,
  qkvBias: false,
  oBias: false,
  mlpBias: false,
  slidingWindow: null,
  attentionDropout: 0,
  initializerRange: 0.02,
  padTokenId: null,
} as const;

/** Named configs. No prototype, so a name from a user or a file (`__proto__`, `constructor`) finds nothing. */
export const LLAMA_PRESETS: Record<string, LlamaConfig> = Object.assign(Object.create(null), {
  /** A model for tests and demos: 4 layers, 4 query heads sharing 2 key/value heads, 128 wide, context 128, a byte-sized vocabulary. */
  tiny: {
    ...BASE,
    vocabSize: 256,
    nPositions: 128,
    nEmbd: 128,
    nLayer: 4,
    nHead: 4,
    nKvHead: 2,
    headDim: 32,
    nInner: 344,
    rmsNormEps: 1e-5,
    ropeTheta: 10000,
    tieWeights: true,
    bosTokenId: null,
    eosTokenId: null,
  },
  /** SmolLM2-135M's shape (HuggingFaceTB/SmolLM2-135M config.json): 30 layers, 9 heads over 3 key/value heads, 576 wide. */
  'smollm2-135m': {
    ...BASE,
    vocabSize: 49152,
    nPositions: 8192,
    nEmbd: 576,
    nLayer: 30,
    nHead: 9,
    nKvHead: 3,
    headDim: 64,
    nInner: 1536,
    rmsNormEps: 1e-5,
    ropeTheta: 100000,
    tieWeights: true,
    initializerRange: 0.041666666666666664,
    bosTokenId: 0,
    eosTokenId: 0,
  },
});

/** The per-layer attention kind of a config: layerTypes, or every layer sliding when slidingWindow is set. */
export function layerTypesOf(c: LlamaConfig): LayerType[] {
  return c.layerTypes ?? new Array<LayerType>(c.nLayer).fill(c.slidingWindow !== null ? 'sliding_attention' : 'full_attention');
}

/** The first layer whose attention is limited to a window, or -1. */
export function firstSlidingLayer(c: LlamaConfig): number {
  return c.slidingWindow === null ? -1 : layerTypesOf(c).indexOf('sliding_attention');
}

/** Check a config's numbers and their relations; errors name the field and what it must be. */
export function checkLlamaConfig(c: LlamaConfig, where = 'Llama'): void {
  for (const k of ['vocabSize', 'nPositions', 'nEmbd', 'nLayer', 'nHead', 'nKvHead', 'headDim', 'nInner'] as const) {
    if (!Number.isSafeInteger(c[k]) || c[k] < 1) throw new Error(`${where}: ${k} must be a positive integer, got ${c[k]}`);
  }
  if (c.nHead % c.nKvHead !== 0) throw new Error(`${where}: nHead ${c.nHead} is not a multiple of nKvHead ${c.nKvHead} (each key/value head serves the same number of query heads)`);
  if (c.headDim % 2 !== 0) throw new Error(`${where}: headDim must be even (rotary embeddings rotate pairs of features), got ${c.headDim}`);
  if (!(c.rmsNormEps > 0 && Number.isFinite(c.rmsNormEps))) throw new Error(`${where}: rmsNormEps must be a positive number, got ${c.rmsNormEps}`);
  if (!(c.ropeTheta > 0 && Number.isFinite(c.ropeTheta))) throw new Error(`${where}: ropeTheta must be a positive number, got ${c.ropeTheta}`);
  if (!(c.attentionDropout >= 0 && c.attentionDropout < 1)) throw new Error(`${where}: attentionDropout must be in [0, 1), got ${c.attentionDropout}`);
  if (c.slidingWindow !== null && !(Number.isSafeInteger(c.slidingWindow) && c.slidingWindow >= 1)) {
    throw new Error(`${where}: slidingWindow must be null or a positive integer, got ${c.slidingWindow}`);
  }
  if (c.layerTypes && (c.layerTypes.length !== c.nLayer || c.layerTypes.some((t) => t !== 'full_attention' && t !== 'sliding_attention'))) {
    throw new Error(`${where}: layerTypes must list 'full_attention' or 'sliding_attention' for each of the ${c.nLayer} layers, got ${JSON.stringify(c.layerTypes)}`);
  }
  const s = c.ropeScaling;
  if (s) {
    if (!['linear', 'dynamic', 'llama3'].includes(s.type)) throw new Error(`${where}: ropeScaling.type must be linear, dynamic or llama3, got ${JSON.stringify(s.type)}`);
    if (!(s.factor >= 1 && Number.isFinite(s.factor))) throw new Error(`${where}: ropeScaling.factor must be a number >= 1, got ${s.factor}`);
    if (s.type === 'llama3') {
      if (!(s.highFreqFactor > s.lowFreqFactor && s.lowFreqFactor > 0)) {
        throw new Error(`${where}: llama3 rope scaling needs 0 < lowFreqFactor < highFreqFactor, got ${s.lowFreqFactor} and ${s.highFreqFactor}`);
      }
      if (!(Number.isSafeInteger(s.originalMaxPositionEmbeddings) && s.originalMaxPositionEmbeddings >= 1)) {
        throw new Error(`${where}: ropeScaling.originalMaxPositionEmbeddings must be a positive integer, got ${s.originalMaxPositionEmbeddings}`);
      }
    }
  }
}

// ---------------------------------------------------------------------------------------------
// config.json

/** The classes transformers builds for each family, by the name config.json's architectures gives. */
export const LLAMA_ARCHITECTURES: Record<LlamaFamily, { causalLM: string; base: string }> = {
  llama: { causalLM: 'LlamaForCausalLM', base: 'LlamaModel' },
  qwen2: { causalLM: 'Qwen2ForCausalLM', base: 'Qwen2Model' },
  mistral: { causalLM: 'MistralForCausalLM', base: 'MistralModel' },
};

/** transformers' defaults that differ between the families (the config classes' field defaults). */
const FAMILY_DEFAULTS: Record<LlamaFamily, { maxPositions: number; bos: number | null; eos: number | null; slidingWindow: number | null }> = {
  llama: { maxPositions: 2048, bos: 1, eos: 2, slidingWindow: null },
  qwen2: { maxPositions: 32768, bos: null, eos: null, slidingWindow: 4096 },
  mistral: { maxPositions: 131072, bos: 1, eos: 2, slidingWindow: 4096 },
};

/**
 * Fields of other architectures' configs that change the computation (soft-capping, query/key norms,
 * mixtures of experts, partial rotary embeddings, ...): refused rather than silently ignored.
 */
const UNSUPPORTED_FIELDS = [
  'attn_logit_softcapping',
  'final_logit_softcapping',
  'use_qk_norm',
  'qk_layernorm',
  'num_experts',
  'num_local_experts',
  'n_routed_experts',
  'no_rope_layers',
  'embedding_multiplier',
  'residual_multiplier',
  'attention_multiplier',
  'logits_scaling',
  'quantization_config',
];

/**
 * A LlamaConfig from a transformers LlamaConfig, Qwen2Config or MistralConfig (config.json);
 * unsupported variants, ill-typed and out-of-range fields are errors that name `file` and the field.
 */
// biome-ignore lint/suspicious/noExplicitAny: config.json as read; each field is checked below
export function llamaConfigFromHF(j: Record<string, any>, where = 'Llama.fromPretrained', file = 'config.json'): LlamaConfig {
  const bad = (msg: string): never => {
    throw new Error(`${where}: ${file}: ${msg}`);
  };
  const show = (v: unknown) => (typeof v === 'number' ? String(v) : JSON.stringify(v));
  const has = (k: string) => Object.hasOwn(j, k) && j[k] !== null && j[k] !== undefined;
  const family = j.model_type as LlamaFamily;
  if (!Object.hasOwn(LLAMA_ARCHITECTURES, family)) bad(`model_type ${show(j.model_type)} is not one of ${Object.keys(LLAMA_ARCHITECTURES).join(', ')}`);
  const d = FAMILY_DEFAULTS[family];
  const int = (key: string, dflt?: number): number => {
    if (!has(key) && dflt === undefined) bad(`${key} is missing`);
    const v = has(key) ? j[key] : dflt;
    if (!(Number.isSafeInteger(v) && v >= 1)) bad(`${key} must be a positive integer, got ${show(v)}`);
    return v;
  };
  const num = (key: string, dflt: number, ok: (v: number) => boolean, what: string): number => {
    const v = has(key) ? j[key] : dflt;
    if (typeof v !== 'number' || !ok(v)) bad(`${key} must be ${what}, got ${show(v)}`);
    return v;
  };
  const bool = (key: string, dflt: boolean): boolean => {
    const v = has(key) ? j[key] : dflt;
    if (typeof v !== 'boolean') bad(`${key} must be true or false, got ${show(v)}`);
    return v;
  };
  const tokenIds = (key: string, dflt: number | null): number[] | null => {
    const v = Object.hasOwn(j, key) ? j[key] : dflt;
    if (v === null) return null;
    const list = Array.isArray(v) ? v : [v];
    if (list.length === 0 || !list.every((x) => Number.isSafeInteger(x) && x >= 0)) bad(`${key} must be null, a non-negative integer or a list of them, got ${show(v)}`);
    return list;
  };

  const archs: unknown[] = Array.isArray(j.architectures) ? j.architectures : [];
  const names = LLAMA_ARCHITECTURES[family];
  const known = archs.filter((a) => a === names.causalLM || a === names.base);
  if (archs.length && !known.length) bad(`architectures ${show(archs)} is not supported; the ${family} classes nabla loads are ${names.causalLM} and ${names.base}`);
  for (const k of UNSUPPORTED_FIELDS) if (has(k) && j[k] !== false && j[k] !== 0) bad(`sets ${k}, which the Llama-family decoder does not support`);
  const act = j.hidden_act ?? 'silu';
  if (act !== 'silu' && act !== 'swish') bad(`hidden_act ${show(act)} is not supported; the SwiGLU MLP uses silu`);
  if (has('partial_rotary_factor') && j.partial_rotary_factor !== 1)
    bad(`partial_rotary_factor ${show(j.partial_rotary_factor)} is not supported (rotary embeddings over the whole head only)`);

  const nEmbd = int('hidden_size'),
    nHead = int('num_attention_heads');
  const nKvHead = has('num_key_value_heads') ? int('num_key_value_heads') : nHead;
  if (nHead % nKvHead !== 0) bad(`num_attention_heads ${nHead} is not a multiple of num_key_value_heads ${nKvHead}`);
  if (!has('head_dim') && nEmbd % nHead !== 0) bad(`hidden_size ${nEmbd} is not divisible by num_attention_heads ${nHead} (and no head_dim is given)`);
  const headDim = has('head_dim') ? int('head_dim') : nEmbd / nHead;
  const nLayer = int('num_hidden_layers'),
    nPositions = int('max_position_embeddings', d.maxPositions);

  // RoPE: transformers 5 keeps everything in rope_parameters; transformers 4 wrote rope_theta at
  // the top level and the scaling (or null) in rope_scaling, which wins when both are there.
  const rope = has('rope_scaling') ? j.rope_scaling : has('rope_parameters') ? j.rope_parameters : {};
  if (typeof rope !== 'object' || Array.isArray(rope)) bad(`rope_scaling / rope_parameters must be an object, got ${show(rope)}`);
  if (['full_attention', 'sliding_attention'].some((t) => Object.hasOwn(rope, t))) bad('gives rope_parameters per layer type, which is not supported');
  const theta = rope.rope_theta ?? j.rope_theta ?? 10000;
  if (!(typeof theta === 'number' && theta > 0 && Number.isFinite(theta))) bad(`rope_theta must be a positive number, got ${show(theta)}`);
  if (rope.partial_rotary_factor !== undefined && rope.partial_rotary_factor !== 1) bad(`partial_rotary_factor ${show(rope.partial_rotary_factor)} is not supported`);
  const ropeType = rope.rope_type ?? rope.type ?? 'default';
  const factor = (): number => {
    const f = rope.factor;
    if (!(typeof f === 'number' && f >= 1 && Number.isFinite(f))) bad(`rope_scaling's factor must be a number >= 1 for rope_type '${ropeType}', got ${show(f)}`);
    return f;
  };
  let ropeScaling: RopeScaling | null;
  if (ropeType === 'default') ropeScaling = null;
  else if (ropeType === 'linear' || ropeType === 'dynamic') ropeScaling = { type: ropeType, factor: factor() };
  else if (ropeType === 'llama3') {
    const need = (k: string) => {
      if (typeof rope[k] !== 'number' || !Number.isFinite(rope[k])) bad(`rope_scaling '${ropeType}' needs a number ${k}, got ${show(rope[k])}`);
      return rope[k] as number;
    };
    const original = rope.original_max_position_embeddings ?? j.original_max_position_embeddings ?? nPositions;
    if (!(Number.isSafeInteger(original) && original >= 1)) bad(`original_max_position_embeddings must be a positive integer, got ${show(original)}`);
    ropeScaling = { type: 'llama3', factor: factor(), lowFreqFactor: need('low_freq_factor'), highFreqFactor: need('high_freq_factor'), originalMaxPositionEmbeddings: original };
  } else {
    ropeScaling = bad(`rope_type ${show(ropeType)} is not supported; supported: default, linear, dynamic, llama3`);
  }

  // Sliding windows: Mistral's applies to every layer; Qwen2's only with use_sliding_window, to
  // the layers from max_window_layers on (or as layer_types lists); Llama has none.
  let slidingWindow: number | null = null;
  let layerTypes: LayerType[] | undefined;
  if (family === 'mistral') {
    slidingWindow = Object.hasOwn(j, 'sliding_window') ? j.sliding_window : d.slidingWindow;
    if (has('layer_types')) bad('sets layer_types, which MistralForCausalLM ignores (a Ministral model?); remove it or use the matching model_type');
  } else if (family === 'qwen2' && bool('use_sliding_window', false)) {
    slidingWindow = Object.hasOwn(j, 'sliding_window') ? j.sliding_window : d.slidingWindow;
    if (slidingWindow !== null) {
      if (has('layer_types')) layerTypes = j.layer_types;
      else {
        const from = has('max_window_layers') ? j.max_window_layers : 28;
        if (!(Number.isSafeInteger(from) && from >= 0)) bad(`max_window_layers must be a non-negative integer, got ${show(from)}`);
        layerTypes = Array.from({ length: nLayer }, (_, i) => (i >= from ? 'sliding_attention' : 'full_attention'));
      }
    }
  } else if (has('layer_types') && (!Array.isArray(j.layer_types) || j.layer_types.some((t: unknown) => t !== 'full_attention'))) {
    bad(`layer_types ${show(j.layer_types)} asks for sliding windows, which ${family === 'qwen2' ? 'need use_sliding_window true' : 'Llama does not have'}`);
  }
  if (slidingWindow !== null && !(Number.isSafeInteger(slidingWindow) && slidingWindow >= 1)) bad(`sliding_window must be null or a positive integer, got ${show(slidingWindow)}`);
  if (layerTypes && (!Array.isArray(layerTypes) || layerTypes.length !== nLayer || layerTypes.some((t) => t !== 'full_attention' && t !== 'sliding_attention'))) {
    bad(`layer_types must list 'full_attention' or 'sliding_attention' for each of the ${nLayer} layers, got ${show(layerTypes)}`);
  }

  const attentionBias = family === 'llama' ? bool('attention_bias', false) : false;
  const eos = tokenIds('eos_token_id', d.eos),
    bos = tokenIds('bos_token_id', d.bos),
    pad = tokenIds('pad_token_id', null);
  const c: LlamaConfig = {
    family,
    vocabSize: int('vocab_size'),
    nPositions,
    nEmbd,
    nLayer,
    nHead,
    nKvHead,
    headDim,
    nInner: int('intermediate_size'),
    rmsNormEps: num('rms_norm_eps', 1e-6, (v) => v > 0 && Number.isFinite(v), 'a positive number'),
    ropeTheta: theta,
    ropeScaling,
    qkvBias: family === 'qwen2' ? true : attentionBias,
    oBias: attentionBias,
    mlpBias: family === 'llama' ? bool('mlp_bias', false) : false,
    tieWeights: bool('tie_word_embeddings', false),
    slidingWindow,
    attentionDropout: num('attention_dropout', 0, (v) => v >= 0 && v < 1, 'a number in [0, 1)'),
    initializerRange: num('initializer_range', 0.02, (v) => v >= 0 && Number.isFinite(v), 'a non-negative number'),
    bosTokenId: bos?.[0] ?? null,
    eosTokenId: eos?.[0] ?? null,
    padTokenId: pad?.[0] ?? null,
  };
  if (layerTypes) c.layerTypes = layerTypes;
  if (eos && eos.length > 1) c.eosTokenIds = eos;
  return c;
}

/**
 * transformers' config.json for a LlamaConfig, as LlamaForCausalLM / Qwen2ForCausalLM /
 * MistralForCausalLM.save_pretrained writes it (transformers 5's rope_parameters, plus rope_theta and
 * rope_scaling for transformers 4). Only a Llama config can carry biases or a mix of them; Qwen2's
 * q/k/v biases are implied by its model_type.
 */
export function llamaConfigToHF(c: LlamaConfig, dtype = 'float32'): Record<string, unknown> {
  const where = 'Llama.savePretrained';
  checkLlamaConfig(c, where);
  const f = c.family;
  if (f === 'qwen2' ? !c.qkvBias || c.oBias || c.mlpBias : f === 'mistral' ? c.qkvBias || c.oBias || c.mlpBias : c.qkvBias !== c.oBias) {
    const want = f === 'qwen2' ? 'q/k/v biases only' : f === 'mistral' ? 'no biases' : 'q/k/v and o biases together (attention_bias)';
    throw new Error(`${where}: a ${f} config.json can only say ${want}; qkvBias ${c.qkvBias}, oBias ${c.oBias}, mlpBias ${c.mlpBias} need family 'llama' (or 'qwen2' for q/k/v biases)`);
  }
  const types = layerTypesOf(c);
  if (f === 'llama' && c.slidingWindow !== null) throw new Error(`${where}: a llama config.json has no sliding window; use family 'mistral' (every layer) or 'qwen2'`);
  if (f === 'mistral' && c.slidingWindow !== null && types.includes('full_attention'))
    throw new Error(`${where}: a mistral config.json slides the window in every layer; use family 'qwen2' for a per-layer mix`);
  const s = c.ropeScaling;
  const scaling: Record<string, unknown> | null = !s
    ? null
    : s.type === 'llama3'
      ? {
          factor: s.factor,
          high_freq_factor: s.highFreqFactor,
          low_freq_factor: s.lowFreqFactor,
          original_max_position_embeddings: s.originalMaxPositionEmbeddings,
          rope_type: 'llama3',
        }
      : { factor: s.factor, rope_type: s.type };
  const eos = c.eosTokenIds && c.eosTokenIds.length > 1 ? c.eosTokenIds : c.eosTokenId;
  const json: Record<string, unknown> = {
    architectures: [LLAMA_ARCHITECTURES[f].causalLM],
    attention_dropout: c.attentionDropout,
    bos_token_id: c.bosTokenId,
    dtype,
    eos_token_id: eos,
    head_dim: c.headDim,
    hidden_act: 'silu',
    hidden_size: c.nEmbd,
    initializer_range: c.initializerRange,
    intermediate_size: c.nInner,
    max_position_embeddings: c.nPositions,
    model_type: f,
    num_attention_heads: c.nHead,
    num_hidden_layers: c.nLayer,
    num_key_value_heads: c.nKvHead,
    pad_token_id: c.padTokenId,
    rms_norm_eps: c.rmsNormEps,
    rope_parameters: { ...(scaling ?? { rope_type: 'default' }), rope_theta: c.ropeTheta },
    rope_scaling: scaling,
    rope_theta: c.ropeTheta,
    tie_word_embeddings: c.tieWeights,
    use_cache: true,
    vocab_size: c.vocabSize,
  };
  if (f === 'llama') Object.assign(json, { attention_bias: c.qkvBias, mlp_bias: c.mlpBias, pretraining_tp: 1 });
  if (f === 'mistral') json.sliding_window = c.slidingWindow;
  if (f === 'qwen2') {
    if (c.headDim * c.nHead !== c.nEmbd) throw new Error(`${where}: Qwen2Config has no head_dim; headDim ${c.headDim} must be nEmbd / nHead (${c.nEmbd / c.nHead})`);
    delete json.head_dim;
    // transformers 4 reads max_window_layers (the layers before it attend fully), 5 reads layer_types.
    const first = types.indexOf('sliding_attention');
    if (c.slidingWindow !== null && types.slice(first).includes('full_attention')) {
      throw new Error(`${where}: Qwen2's sliding layers must come after its full ones (max_window_layers), got ${JSON.stringify(types)}`);
    }
    Object.assign(json, {
      layer_types: types,
      max_window_layers: c.slidingWindow === null || first < 0 ? c.nLayer : first,
      sliding_window: c.slidingWindow,
      use_sliding_window: c.slidingWindow !== null,
    });
  }
  return json;
}
