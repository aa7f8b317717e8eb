// models: one file per model family.

export { MLP, MLP_PRESETS, type MLPConfig } from './mlp.js';
export { CNN, CNN_PRESETS, type CNNConfig } from './cnn.js';
export { GPT, GPT2Model, GPT_PRESETS, Conv1D, type GPTConfig, type GenerateOptions, type SamplingOptions } from './gpt.js';
export { GPTClassifier } from './gpt-classifier.js';
export { fromPretrained, type Pretrained } from './pretrained.js';
