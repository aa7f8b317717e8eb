// The text package: tokenizers (character-level and GPT-2 byte-level BPE) that read and write
// Hugging Face's tokenizer.json and GPT-2's vocab.json + merges.txt.

export {
  Tokenizer,
  loadTokenizer,
  tokenizerFromJSON,
  type EncodeOptions,
  type DecodeOptions,
  type AddedToken,
  type AddedTokenInit,
  type Piece,
} from './tokenizer.js';
export { BPETokenizer, parseMergesTxt, type ByteLevelOptions, type BPETrainOptions, type FromVocabMergesOptions } from './bpe.js';
export { CharTokenizer, type CharTokenizerOptions } from './char.js';
export { TokenizerFormatError } from './tokenizer-json.js';
export { BYTE_TO_CHAR, GPT2_SPLIT_PATTERN } from './bytelevel.js';
export { trainBPE, type TrainBPEOptions, type TrainBPEResult } from './bpe-trainer.js';
export * from './bleu.js';
