// Embedding: a lookup table of rows (nn.Embedding), with padding_idx and from_pretrained as PyTorch's.

import type { Tensor } from '../../tensor/tensor.js';
import { Module } from '../module.js';
import { Parameter } from '../parameter.js';
import { empty } from './util.js';
import { normal_ } from '../init.js';
import { equal, notEqual, where } from '../../ops/binary.js';
import { indexSelect } from '../../ops/indexing.js';
import { unsqueeze, contiguous } from '../../ops/movement.js';
import { arange } from '../../tensor/creation.js';
import { detach } from '../../autograd/tape.js';
import { noGrad } from '../../autograd/grad-mode.js';
import { scope } from '../../tensor/memory.js';
import { fmtShape } from '../../tensor/shape.js';
import type { DType } from '../../tensor/dtype.js';

/** Check indices are int32 and (where the backend reads synchronously) within [0, numEmbeddings). */
function checkIndices(where: string, indices: Tensor, numEmbeddings: number): void {
  if (indices.dtype !== 'int32') throw new Error(`${where}: indices must be int32, got ${indices.dtype} of shape ${fmtShape(indices.shape)}`);
  // Asynchronous backends (WebGPU) cannot be read here; their gather kernel is left to handle it.
  if (!indices.storage.backend.readSync) return;
  const data = indices.dataSync();
  for (let i = 0; i < data.length; i++) {
    const k = data[i];
    if (k < 0 || k >= numEmbeddings) {
      throw new Error(`${where}: index ${k} is out of range for a table of ${numEmbeddings} embeddings (valid indices 0 to ${numEmbeddings - 1})`);
    }
  }
}

/** Resolve a negative padding index (−1 is the last row) and check it, as PyTorch does. */
function normPaddingIdx(where: string, paddingIdx: number | null | undefined, numEmbeddings: number): number | null {
  if (paddingIdx === undefined || paddingIdx === null) return null;
  if (!Number.isInteger(paddingIdx) || paddingIdx >= numEmbeddings || paddingIdx < -numEmbeddings) {
    throw new Error(`${where}: paddingIdx ${paddingIdx} must be within the ${numEmbeddings} embeddings (from ${-numEmbeddings} to ${numEmbeddings - 1})`);
  }
  return paddingIdx < 0 ? paddingIdx + numEmbeddings : paddingIdx;
}

/**
 * F.embedding: the rows of weight [num, dim] picked by int32 indices of any shape → [...shape, dim].
 * The row at paddingIdx is returned as stored but receives no gradient (PyTorch's padding_idx).
 */
export function embedding(indices: Tensor, weight: Tensor, paddingIdx?: number | null): Tensor {
  if (weight.ndim !== 2) throw new Error(`embedding: weight must be 2-D [numEmbeddings, embeddingDim], got ${fmtShape(weight.shape)}`);
  checkIndices('embedding', indices, weight.shape[0]);
  return lookup(indices, weight, normPaddingIdx('embedding', paddingIdx, weight.shape[0]));
}

function lookup(indices: Tensor, weight: Tensor, pad: number | null): Tensor {
  const rows = indexSelect(weight, 0, indices);
  if (pad === null || !rows.requiresGrad) return rows;
  // Same values everywhere; the padding positions take theirs from a detached copy, so no gradient reaches that row.
  return where(unsqueeze(equal(indices, pad), -1), detach(rows), rows);
}

/**
 * Options of {@link Embedding}: the padding row, the weight's dtype (float32), and PyTorch's
 * private `_weight` / `_freeze` used by `fromPretrained`.
 */
export interface EmbeddingOptions {
  /** This row is zeroed at init and gets no gradient; negative counts from the end. */
  paddingIdx?: number | null;
  dtype?: DType;
  /** PyTorch's `_weight`: use this [numEmbeddings, embeddingDim] tensor (shared, not copied) instead of a random init. */
  _weight?: Tensor;
  /** PyTorch's `_freeze`: with _weight, do not train the weight. */
  _freeze?: boolean;
}

/** Options of `Embedding.fromPretrained`: freeze the weight (default true) and the padding row. */
export interface FromPretrainedOptions {
  /** Keep the weight fixed (requiresGrad false); default true, as PyTorch. */
  freeze?: boolean;
  paddingIdx?: number | null;
}

/**
 * A table of numEmbeddings vectors of size embeddingDim (nn.Embedding), weight ~ N(0, 1).
 * @example const wte = new Embedding(50257, 768); wte.forward(tokens) // int32 [B, T] → [B, T, 768]
 */
export class Embedding extends Module {
  weight: Parameter;
  readonly paddingIdx: number | null;

  constructor(
    readonly numEmbeddings: number,
    readonly embeddingDim: number,
    opts: EmbeddingOptions = {},
  ) {
    super();
    if (!Number.isInteger(numEmbeddings) || numEmbeddings < 1 || !Number.isInteger(embeddingDim) || embeddingDim < 1) {
      throw new Error(`Embedding: numEmbeddings and embeddingDim must be positive integers, got ${numEmbeddings} and ${embeddingDim}`);
    }
    this.paddingIdx = normPaddingIdx('Embedding', opts.paddingIdx, numEmbeddings);
    if (opts._weight) {
      const w = opts._weight;
      if (w.ndim !== 2 || w.shape[0] !== numEmbeddings || w.shape[1] !== embeddingDim) {
        throw new Error(`Embedding: weight ${fmtShape(w.shape)} does not match [numEmbeddings, embeddingDim] = ${fmtShape([numEmbeddings, embeddingDim])}`);
      }
      this.weight = new Parameter(w, !(opts._freeze ?? false));
    } else {
      this.weight = new Parameter(empty([numEmbeddings, embeddingDim], opts.dtype ?? 'float32'));
      this.resetParameters();
    }
  }

  /**
   * Build from a [num, dim] tensor of vectors (nn.Embedding.from_pretrained); the weight shares its
   * storage, and with freeze (the default) does not require grad. The padding row is left as given.
   */
  static fromPretrained(embeddings: Tensor, opts: FromPretrainedOptions = {}): Embedding {
    if (embeddings.ndim !== 2) throw new Error(`Embedding.fromPretrained: embeddings must be 2-D [numEmbeddings, embeddingDim], got ${fmtShape(embeddings.shape)}`);
    const [num, dim] = embeddings.shape;
    return new Embedding(num, dim, { _weight: embeddings, _freeze: opts.freeze ?? true, paddingIdx: opts.paddingIdx });
  }

  /** N(0, 1) init, then the padding row zeroed. */
  resetParameters(): void {
    normal_(this.weight);
    this.fillPaddingWithZero();
  }

  private fillPaddingWithZero(): void {
    const pad = this.paddingIdx;
    if (pad === null) return;
    const w = this.weight;
    noGrad(() =>
      scope(() => {
        const keep = unsqueeze(notEqual(arange(0, this.numEmbeddings, 1, { dtype: 'int32', device: w.device }), pad), 1);
        w.assignStorage(contiguous(where(keep, w, 0)));
      }),
    );
  }

  forward(indices: Tensor): Tensor {
    checkIndices('Embedding', indices, this.numEmbeddings);
    return lookup(indices, this.weight, this.paddingIdx);
  }

  override extraRepr(): string {
    return `${this.numEmbeddings}, ${this.embeddingDim}${this.paddingIdx !== null ? `, padding_idx=${this.paddingIdx}` : ''}`;
  }
}
