// GPT-2's configuration: the typed config (Hugging Face's GPT2Config fields, camelCased) with its
// defaults, and the named presets. Below gpt.ts, so the Hugging Face file format (gpt2-files.ts) and
// the generation loop (generation.ts) can name it without importing the model.

/**
 * The architecture of a {@link GPT} (Hugging Face's GPT2Config fields, camelCased). Fields left out
 * of `new GPT(config)` take GPT-2 small's values, given here as defaults.
 */
export interface GPTConfig {
  /** Tokens in the vocabulary (default 50257, GPT-2's byte-level BPE). */
  vocabSize: number;
  /** Context length: the most positions the model sees (block_size in nanoGPT, n_positions in HF; default 1024). */
  nPositions: number;
  /** Width of the residual stream, C (default 768). */
  nEmbd: number;
  /** Transformer blocks (default 12). */
  nLayer: number;
  /** Attention heads; nEmbd must divide evenly (default 12). */
  nHead: number;
  /** Hidden width of the MLP; null (default) = 4·nEmbd (HF's n_inner). */
  nInner: number | null;
  /** 'gelu_new' (default) is GPT-2's tanh approximation of GELU. */
  activation: 'gelu_new' | 'gelu_pytorch_tanh' | 'gelu' | 'relu';
  /** Dropout on the embeddings, the attention weights and the residual branches (default 0.1 each, as HF). */
  dropout: number;
  /** Per-site overrides of `dropout` (HF's embd_pdrop, attn_pdrop, resid_pdrop). */
  embdPdrop?: number;
  attnPdrop?: number;
  residPdrop?: number;
  /** The LayerNorms' eps (default 1e-5). */
  layerNormEps: number;
  /** Biases in the projections and LayerNorms (default true; nanoGPT: false is a bit better and faster). */
  bias: boolean;
  /** lm_head shares its weight with the token embedding wte (default true, as GPT-2). */
  tieWeights: boolean;
  /** Token ids written to config.json (default 50256, GPT-2's <|endoftext|>); null when there are none. */
  bosTokenId: number | null;
  eosTokenId: number | null;
}

const BASE = { nInner: null, activation: 'gelu_new', layerNormEps: 1e-5, bias: true, tieWeights: true } as const;

/** Named configs. No prototype, so a name from a user or a file (`__proto__`, `constructor`) finds nothing. */
export const GPT_PRESETS: Record<string, GPTConfig> = Object.assign(Object.create(null), {
  /** A model for tests and demos: 4 layers, 4 heads, 128 wide, context 64 (byte-sized vocabulary). */
  tiny: { ...BASE, vocabSize: 256, nPositions: 64, nEmbd: 128, nLayer: 4, nHead: 4, dropout: 0, bosTokenId: null, eosTokenId: null },
  /** nanoGPT's shakespeare_char: 6 layers, 6 heads, 384 wide, context 256, dropout 0.2, 65 characters. */
  'small-char': { ...BASE, vocabSize: 65, nPositions: 256, nEmbd: 384, nLayer: 6, nHead: 6, dropout: 0.2, bosTokenId: null, eosTokenId: null },
  /** GPT-2 small (124M): HF's GPT2Config() defaults, and the defaults of every field. */
  gpt2: { ...BASE, vocabSize: 50257, nPositions: 1024, nEmbd: 768, nLayer: 12, nHead: 12, dropout: 0.1, bosTokenId: 50256, eosTokenId: 50256 },
});
