// The data package: datasets and loaders, preprocessing transforms, and dataset readers (IDX, MNIST).

export { type Dataset, TensorDataset, Subset, randomSplit } from './dataset.js';
export { DataLoader, type DataLoaderOptions } from './loader.js';
export { defaultCollate, type Collated } from './collate.js';
export {
  normalize,
  standardize,
  minMaxScale,
  toCategorical,
  shuffleArrays,
  trainTestSplit,
  type Stat,
  type StandardizeOptions,
  type MinMaxScaleOptions,
  type TrainTestSplitOptions,
} from './transforms.js';
export { loadMnist, type LoadMnistOptions } from './mnist-tensors.js';
export { parseIdx, encodeIdx, readIdx, type IdxArray, type IdxType } from './idx.js';
export { loadMnistRaw, mnistFiles, clearMnistCache, type MnistRaw, type MnistFiles } from './mnist-raw.js';
export * from './augment.js';
