// The text package: tokenizers (character-level and GPT-2 byte-level BPE) that read and write
// Hugging Face's tokenizer.json and GPT-2's vocab.json + merges.txt.

export {
  Tokenizer, type EncodeOptions, type DecodeOptions, type AddedToken, type AddedTokenInit, type Piece,
} from './tokenizer.js';
export { BPETokenizer, parseMergesTxt, type ByteLevelOptions, type BPETrainOptions, type FromVocabMergesOptions } from './bpe.js';
export { CharTokenizer, type CharTokenizerOptions } from './char.js';
export { loadTokenizer, tokenizerFromJSON } from './load.js';
export { TokenizerFormatError } from './json.js';
export { BYTE_TO_CHAR, GPT2_SPLIT_PATTERN } from './bytelevel.js';
export { trainBPE, type TrainBPEOptions, type TrainBPEResult } from './train.js';
export * from './bleu.js';
