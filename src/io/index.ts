// io: safetensors files and checkpoints.

export {
  loadSafetensors,
  readSafetensorsFile,
  readSafetensorsHeader,
  saveSafetensors,
  tensorsFromSafetensors,
  safetensorsBytes,
  type SafetensorsFile,
  type SafetensorsFileHeader,
} from './safetensors.js';
export { saveCheckpoint, loadCheckpoint, loadTrainingState, type CheckpointContents, type SaveCheckpointOptions } from './checkpoint.js';
export { decodeSafetensors, encodeSafetensors } from './safetensors-format.js';
