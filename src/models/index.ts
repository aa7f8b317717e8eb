// models: one file per model family.

export { MLP, MLP_PRESETS, type MLPConfig } from './mlp.js';
