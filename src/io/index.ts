// io: safetensors files and checkpoints.

export { loadSafetensors, saveSafetensors, tensorsFromSafetensors, safetensorsBytes, type SafetensorsFile } from './safetensors.js';
export { saveCheckpoint, loadCheckpoint, loadTrainingState, type CheckpointContents, type SaveCheckpointOptions } from './checkpoint.js';
export { decodeSafetensors, encodeSafetensors } from './safetensors-format.js';
