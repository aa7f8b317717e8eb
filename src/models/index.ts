// models: one file per model family.

export { MLP, MLP_PRESETS, type MLPConfig } from './mlp.js';
export { CNN, CNN_PRESETS, type CNNConfig } from './cnn.js';
