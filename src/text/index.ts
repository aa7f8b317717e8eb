// The text package: tokenizers that read Hugging Face's tokenizer.json (WordPiece, SentencePiece-style
// and byte-level BPE, with their normalizers, pre-tokenizers, post-processors and decoders) and
// GPT-2's vocab.json + merges.txt, and train character-level and byte-level BPE ones.

export {
  Tokenizer,
  loadTokenizer,
  tokenizerFromJSON,
  type EncodeOptions,
  type EncodeFullOptions,
  type EncodeBatchOptions,
  type DecodeOptions,
  type AddedToken,
  type AddedTokenInit,
  type Piece,
} from './tokenizer.js';
export { BPETokenizer, parseMergesTxt, type ByteLevelOptions, type BPETrainOptions, type FromVocabMergesOptions } from './bpe.js';
export { CharTokenizer, type CharTokenizerOptions } from './char.js';
export { PipelineTokenizer } from './pipeline.js';
export type { Encoding, TruncationOptions, PaddingOptions } from './encoding.js';
export { TokenizerFormatError } from './tokenizer-json.js';
export { BYTE_TO_CHAR, GPT2_SPLIT_PATTERN } from './bytelevel.js';
export { trainBPE, type TrainBPEOptions, type TrainBPEResult } from './bpe-trainer.js';
export * from './bleu.js';
