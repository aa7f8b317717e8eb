// models: one file per model family.

export { MLP, MLP_PRESETS, type MLPConfig } from './mlp.js';
export { CNN, CNN_PRESETS, type CNNConfig } from './cnn.js';
export { GPT, GPT2Model, Conv1D } from './gpt.js';
export { GPT_PRESETS, type GPTConfig } from './gpt-config.js';
export { Llama, LlamaModel, LlamaDecoderLayer, LlamaAttention, LlamaMLP } from './llama.js';
export { LLAMA_PRESETS, type LlamaConfig, type LlamaFamily, type LayerType, type RopeScaling } from './llama-config.js';
export type { GenerateOptions, SamplingOptions } from './generation.js';
export { GPTClassifier } from './gpt-classifier.js';
export {
  BertModel,
  RobertaModel,
  DistilBertModel,
  BertEmbeddings,
  BertLayer,
  DistilBertLayer,
  meanPooling,
  bertEncoder,
  type BertInputs,
  type EncoderOutput,
} from './bert.js';
export {
  BertForSequenceClassification,
  BertForTokenClassification,
  BertForQuestionAnswering,
  BertForMaskedLM,
  bertBatch,
  type BertBatch,
} from './bert-heads.js';
export { BERT_PRESETS, type BertConfig, type BertFamily, type BertActivation, type BertProblemType } from './bert-config.js';
export { fromPretrained, type Pretrained } from './pretrained.js';
