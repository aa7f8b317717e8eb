// Graph neural network layers as PyTorch Geometric's (GCNConv, SAGEConv, GATConv) and the message
// passing they share: gather source features along an edge index, aggregate them at the targets.
//
// An edge index is an int32 tensor [2, E]: row 0 holds the source j of each edge, row 1 its target i,
// and messages flow from source to target (PyG's flow 'source_to_target'). Everything is composed of
// indexSelect (gather) to read node rows per edge and scatterAdd to sum edge rows per node, so the
// gradients come from those two primitives' rules. Self loops are handled with shapes that do not
// depend on the data (an existing loop is kept in place and switched off, rather than filtered out),
// so no layer needs to read the graph back from the backend except to check it.

import type { Tensor } from '../../tensor/tensor.js';
import { Module } from '../module.js';
import { Parameter } from '../parameter.js';
import { Linear } from './linear.js';
import { empty } from './util.js';
import { uniform_, zeros_ } from '../init.js';
import { dropout } from '../functional.js';
import { add, div, equal, greater, maximum, mul, notEqual, sub, where } from '../../ops/binary.js';
import { exp, rsqrt, sqrt } from '../../ops/unary.js';
import { max, mean, sum } from '../../ops/reduce.js';
import { concat, expand, reshape, select, stack, unsqueeze } from '../../ops/movement.js';
import { indexSelect, scatterAdd } from '../../ops/indexing.js';
import { leakyRelu } from '../../ops/activation.js';
import { arange, full, ones, tensor, zeros } from '../../tensor/creation.js';
import { detach } from '../../autograd/tape.js';
import { fmtShape } from '../../tensor/shape.js';
import { isFloat, type DType } from '../../tensor/dtype.js';

/**
 * Segment maxima (max aggregation, the stable shift of scatterSoftmax) normally gather each node's
 * edges into a padded [N, maxDegree] table built from the index read on the host; backends that
 * cannot read synchronously mask a dense [N, E] table instead. Set `denseSegmentMax` to force the
 * dense form (tests compare the two).
 */
export const graphOptions = { denseSegmentMax: false };

/**
 * How messages are combined at each target node: sum ('add' is PyG's name for it), mean or max; a
 * node that receives nothing gets 0.
 */
export type Aggregation = 'sum' | 'add' | 'mean' | 'max';

// ---------------------------------------------------------------------------------------------
// Checks

const canRead = (t: Tensor): boolean => !!t.storage.backend.readSync;

/**
 * edgeIndex is int32 [2, E] and (where the backend reads synchronously) its sources are below
 * numNodes and its targets below numTargets (the same unless messages go to another node set).
 */
function checkEdgeIndex(where: string, edgeIndex: Tensor, numNodes: number, numTargets = numNodes): void {
  if (edgeIndex.dtype !== 'int32' || edgeIndex.ndim !== 2 || edgeIndex.shape[0] !== 2) {
    throw new Error(`${where}: edgeIndex must be an int32 tensor of shape [2, E] (row 0 sources, row 1 targets), got ${edgeIndex.dtype} ${fmtShape(edgeIndex.shape)}`);
  }
  if (!canRead(edgeIndex)) return; // an asynchronous backend's gather kernel is left to check
  const data = edgeIndex.dataSync(),
    E = edgeIndex.shape[1];
  for (let k = 0; k < data.length; k++) {
    const v = data[k],
      n = k < E ? numNodes : numTargets;
    if (v < 0 || v >= n) {
      const role = k < E ? 'source' : 'target';
      throw new Error(
        `${where}: edgeIndex refers to node ${v} (${role} of edge ${k % E}) but the graph has ${n} ${k >= E && numTargets !== numNodes ? 'target ' : ''}nodes (valid indices 0 to ${n - 1})`,
      );
    }
  }
}

/** A 1-D int32 index of one node per row of src, within numNodes. */
function checkIndex(where: string, index: Tensor, numNodes: number, rows?: number): void {
  if (index.dtype !== 'int32' || index.ndim !== 1) throw new Error(`${where}: index must be a 1-D int32 tensor, got ${index.dtype} ${fmtShape(index.shape)}`);
  if (rows !== undefined && index.shape[0] !== rows) throw new Error(`${where}: index ${fmtShape(index.shape)} must have one entry per row of src (${rows})`);
  if (!Number.isInteger(numNodes) || numNodes < 0) throw new Error(`${where}: numNodes must be a non-negative integer, got ${numNodes}`);
  if (!canRead(index)) return;
  const data = index.dataSync();
  for (let k = 0; k < data.length; k++) {
    if (data[k] < 0 || data[k] >= numNodes) throw new Error(`${where}: index ${data[k]} at position ${k} is out of range for ${numNodes} nodes (valid indices 0 to ${numNodes - 1})`);
  }
}

function checkEdgeWeight(where: string, edgeWeight: Tensor, E: number): void {
  if (!isFloat(edgeWeight.dtype) || edgeWeight.ndim !== 1 || edgeWeight.shape[0] !== E) {
    throw new Error(`${where}: edgeWeight must be a float tensor of shape [E] = [${E}], got ${edgeWeight.dtype} ${fmtShape(edgeWeight.shape)}`);
  }
}

/** x is [N, channels]; returns N. */
function checkFeatures(where: string, x: Tensor, channels: number): number {
  if (x.ndim !== 2 || x.shape[1] !== channels) throw new Error(`${where}: expected node features [N, ${channels}], got ${fmtShape(x.shape)}`);
  return x.shape[0];
}

// ---------------------------------------------------------------------------------------------
// Scatter and gather along edges (no checks: the public functions check, then call these)

/** The source and target rows of an edge index, as views. */
const endpoints = (edgeIndex: Tensor): [Tensor, Tensor] => [select(edgeIndex, 0, 0), select(edgeIndex, 0, 1)];

/** A per-row index [E] broadcast over the trailing dims of src [E, ...F] (a stride-0 view). */
function alongRows(index: Tensor, src: Tensor): Tensor {
  return expand(reshape(index, [index.shape[0], ...src.shape.slice(1).map(() => 1)]), src.shape);
}

/** out[i] = Σ_{e: index[e] = i} src[e]: [E, ...F] → [N, ...F]. */
function scatterSum(src: Tensor, index: Tensor, N: number): Tensor {
  return scatterAdd(alongRows(index, src), src, 0, [N, ...src.shape.slice(1)]);
}

/** Number of rows of each node in index, as a float [N]. */
function countOf(index: Tensor, N: number, dtype: DType): Tensor {
  return scatterAdd(index, ones([index.shape[0]], { dtype, device: index.device }), 0, [N]);
}

/** Reshape a per-node [N] tensor to broadcast against [N, ...F]. */
const perRow = (t: Tensor, ndim: number): Tensor => reshape(t, [t.shape[0], ...new Array(ndim - 1).fill(1)]);

/**
 * out[i] = max_{e: index[e] = i} src[e], 0 where node i has no rows (torch_scatter's 'max').
 * Differentiable: the gradient reaches the maxima (shared among ties) through gather and max.
 */
function segmentMax(src: Tensor, index: Tensor, N: number): Tensor {
  const E = index.shape[0],
    feat = src.shape.slice(1);
  if (E === 0 || N === 0) return zeros([N, ...feat], { dtype: src.dtype, device: src.device });
  if (graphOptions.denseSegmentMax || !canRead(index)) {
    // mask[i, e] = (index[e] = i): the rows of node i, the rest -∞, then the max over e.
    const mask = equal(unsqueeze(arange(0, N, 1, { dtype: 'int32', device: index.device }), 1), unsqueeze(index, 0)); // (N, E)
    const m = max(where(reshape(mask, [N, E, ...feat.map(() => 1)]), unsqueeze(src, 0), -Infinity), 1); // (N, ...F)
    return where(perRow(greater(sum(mask, 1), 0), m.ndim), m, 0);
  }
  // Host: lay out each node's edges in a row of a padded table; padding points at an extra -∞ row.
  const idx = index.dataSync();
  const count = new Int32Array(N);
  for (let e = 0; e < E; e++) count[idx[e]]++;
  let width = 0;
  for (let i = 0; i < N; i++) width = Math.max(width, count[i]);
  const table = new Int32Array(N * width).fill(E),
    fill = new Int32Array(N);
  for (let e = 0; e < E; e++) {
    const i = idx[e];
    table[i * width + fill[i]++] = e;
  }
  const padded = concat([src, full([1, ...feat], -Infinity, { dtype: src.dtype, device: src.device })], 0); // (E+1, ...F)
  const rows = indexSelect(padded, 0, tensor(table, { shape: [N, width], dtype: 'int32', device: index.device })); // (N, W, ...F)
  const m = max(rows, 1); // (N, ...F)
  const nonEmpty = tensor(
    Uint8Array.from(count, (c) => (c > 0 ? 1 : 0)),
    { dtype: 'bool', device: index.device },
  );
  return where(perRow(nonEmpty, m.ndim), m, 0);
}

function scatterImpl(src: Tensor, index: Tensor, N: number, reduce: Aggregation): Tensor {
  switch (reduce) {
    case 'sum':
    case 'add':
      return scatterSum(src, index, N);
    // sum / max(count, 1): nodes without rows get 0 (torch_scatter's scatter_mean)
    case 'mean':
      return div(scatterSum(src, index, N), perRow(maximum(countOf(index, N, src.dtype), 1), src.ndim));
    case 'max':
      return segmentMax(src, index, N);
    default:
      throw new Error(`scatter: unknown reduction '${reduce as string}' (expected 'sum', 'add', 'mean' or 'max')`);
  }
}

/** Edge softmax grouped by index, after subtracting each group's (detached) max. */
function softmaxImpl(src: Tensor, index: Tensor, N: number): Tensor {
  const m = segmentMax(detach(src), index, N);
  const shift = where(greater(m, -Infinity), m, 0); // a group of -∞ scores only: give 0s, not NaN
  const e = exp(sub(src, indexSelect(shift, 0, index)));
  const total = indexSelect(scatterSum(e, index, N), 0, index);
  return div(e, add(total, 1e-16)); // PyG's 1e-16 keeps an all-zero group finite
}

/**
 * The edges plus one loop per node whatever the graph has (PyG's add_remaining_self_loops, shape-
 * stable): existing loops stay in place with weight 0 and each node's appended loop carries the
 * weight of its existing loop (several are summed) or fillValue. The aggregation equals PyG's.
 */
function withRemainingLoops(edgeIndex: Tensor, N: number, weight: Tensor, fillValue: number): [Tensor, Tensor] {
  const [row, col] = endpoints(edgeIndex);
  const isLoop = equal(row, col);
  const loopWeight = scatterAdd(row, where(isLoop, weight, 0), 0, [N]);
  const hasLoop = greater(scatterAdd(row, where(isLoop, 1, 0), 0, [N]), 0);
  const loops = arange(0, N, 1, { dtype: 'int32', device: edgeIndex.device });
  return [concat([edgeIndex, stack([loops, loops])], 1), concat([where(isLoop, 0, weight), where(hasLoop, loopWeight, fillValue)], 0)];
}

function gcnNormImpl(edgeIndex: Tensor, N: number, improved: boolean, loops: boolean, edgeWeight: Tensor | null, dtype: DType): [Tensor, Tensor] {
  let ei = edgeIndex;
  let w = edgeWeight ?? ones([edgeIndex.shape[1]], { dtype, device: edgeIndex.device });
  if (loops) [ei, w] = withRemainingLoops(ei, N, w, improved ? 2 : 1);
  const [row, col] = endpoints(ei);
  const deg = scatterAdd(col, w, 0, [N]); // weighted in-degree, loops included
  // deg^-1/2 with 0 where deg = 0 (PyG's masked_fill of inf); the inner where keeps the gradient finite
  const nz = notEqual(deg, 0);
  const dis = where(nz, rsqrt(where(nz, deg, 1)), 0);
  return [ei, mul(mul(indexSelect(dis, 0, row), w), indexSelect(dis, 0, col))];
}

function propagateImpl(edgeIndex: Tensor, x: Tensor, edgeWeight: Tensor | null, aggr: Aggregation, N: number): Tensor {
  const [src, dst] = endpoints(edgeIndex);
  let msg = indexSelect(x, 0, src); // (E, ...F): x_j per edge
  if (edgeWeight) msg = mul(msg, perRow(edgeWeight, msg.ndim));
  return scatterImpl(msg, dst, N, aggr); // (N, ...F)
}

// ---------------------------------------------------------------------------------------------
// Public helpers (torch_geometric.utils)

/**
 * PyG's scatter along dim 0: reduce the rows of src [E, ...F] into dimSize rows by index [E]
 * ('sum'/'add', 'mean', 'max'; rows that receive nothing are 0).
 * @example scatter(msgs, edgeIndexTargets, numNodes, 'mean')
 */
export function scatter(src: Tensor, index: Tensor, dimSize: number, reduce: Aggregation = 'sum'): Tensor {
  if (src.ndim < 1) throw new Error(`scatter: src must have at least one dimension, got ${fmtShape(src.shape)}`);
  checkIndex('scatter', index, dimSize, src.shape[0]);
  return scatterImpl(src, index, dimSize, reduce);
}

/**
 * Number of occurrences of each node in index [E] (PyG's degree): pass edgeIndex row 1 for
 * in-degrees, row 0 for out-degrees.
 * @example degree(select(edgeIndex, 0, 1), numNodes)
 */
export function degree(index: Tensor, numNodes: number, dtype: DType = 'float32'): Tensor {
  checkIndex('degree', index, numNodes);
  return countOf(index, numNodes, dtype);
}

/**
 * Options of {@link addSelfLoops}: edge weights, and the weight of the added loops (fillValue,
 * default 1).
 */
export interface SelfLoopOptions {
  /** Weights [E] of the edges; the loops get fillValue. */
  edgeWeight?: Tensor | null;
  fillValue?: number;
}

/**
 * Append a loop (i, i) for every node (PyG's add_self_loops: existing loops are kept, so a node may
 * end up with two). Returns [edgeIndex [2, E+N], edgeWeight [E+N] or null when none was given].
 * @example const [ei] = addSelfLoops(edgeIndex, 34)
 */
export function addSelfLoops(edgeIndex: Tensor, numNodes: number, opts: SelfLoopOptions = {}): [Tensor, Tensor | null] {
  checkEdgeIndex('addSelfLoops', edgeIndex, numNodes);
  const loops = arange(0, numNodes, 1, { dtype: 'int32', device: edgeIndex.device });
  const ei = concat([edgeIndex, stack([loops, loops])], 1);
  const w = opts.edgeWeight;
  if (!w) return [ei, null];
  checkEdgeWeight('addSelfLoops', w, edgeIndex.shape[1]);
  return [ei, concat([w, full([numNodes], opts.fillValue ?? 1, { dtype: w.dtype, device: w.device })], 0)];
}

/** Options of {@link gcnNorm}. */
export interface GcnNormOptions {
  /** Use Â = A + 2I (GCNConv's improved). Default false. */
  improved?: boolean;
  /** Give every node one self loop (add_remaining_self_loops). Default true. */
  addSelfLoops?: boolean;
  /** Weights [E] of the edges (default 1). */
  edgeWeight?: Tensor | null;
  /** dtype of the weights when edgeWeight is not given (default float32). */
  dtype?: DType;
}

/**
 * Symmetric normalization D̂^-1/2 Â D̂^-1/2 as PyG's gcn_norm: Â = A + I (or A + 2I when improved),
 * d̂_i = Σ_j Â_ji the weighted in-degree of target i, edge weight ŵ_ji = d̂_j^-1/2 w_ji d̂_i^-1/2, and 0
 * for nodes of degree 0. Returns [edgeIndex, weights]. With self loops the result has E + N edges:
 * the given ones (loops already present stay in place with weight 0) then one loop per node, which
 * takes the weight of the node's existing loop when it has one (PyG removes the old loops instead;
 * the aggregated result is the same).
 * @example const [ei, w] = gcnNorm(edgeIndex, 34); propagate(ei, x, { edgeWeight: w })
 */
export function gcnNorm(edgeIndex: Tensor, numNodes: number, opts: GcnNormOptions = {}): [Tensor, Tensor] {
  checkEdgeIndex('gcnNorm', edgeIndex, numNodes);
  const w = opts.edgeWeight ?? null;
  if (w) checkEdgeWeight('gcnNorm', w, edgeIndex.shape[1]);
  return gcnNormImpl(edgeIndex, numNodes, opts.improved ?? false, opts.addSelfLoops ?? true, w, w?.dtype ?? opts.dtype ?? 'float32');
}

/**
 * Softmax of edge scores src [E] or [E, H] over the edges of each target node (PyG's softmax):
 * α_e = exp(s_e − m_i) / Σ_{e': index[e'] = i} exp(s_e' − m_i), m_i the group's max.
 * @example const alpha = scatterSoftmax(scores, select(edgeIndex, 0, 1), numNodes)
 */
export function scatterSoftmax(src: Tensor, index: Tensor, numNodes: number): Tensor {
  if (src.ndim < 1 || !isFloat(src.dtype)) throw new Error(`scatterSoftmax: src must be a float tensor [E, ...], got ${src.dtype} ${fmtShape(src.shape)}`);
  checkIndex('scatterSoftmax', index, numNodes, src.shape[0]);
  return softmaxImpl(src, index, numNodes);
}

/** Options of {@link propagate}. */
export interface PropagateOptions {
  /** Scale each message x_j by its edge's weight [E]. */
  edgeWeight?: Tensor | null;
  /** How messages are combined at each target (default 'sum'). */
  aggr?: Aggregation;
  /** Number of target nodes (default x.shape[0]). */
  numNodes?: number;
}

/**
 * One round of message passing (PyG's MessagePassing.propagate with message x_j · w_ji):
 * out_i = aggr_{j → i} w_ji x_j, for x [N, ...F] → [numNodes, ...F].
 * @example propagate(edgeIndex, x, { aggr: 'mean' })
 */
export function propagate(edgeIndex: Tensor, x: Tensor, opts: PropagateOptions = {}): Tensor {
  if (x.ndim < 1) throw new Error(`propagate: x must be node features [N, ...], got ${fmtShape(x.shape)}`);
  const N = opts.numNodes ?? x.shape[0];
  checkEdgeIndex('propagate', edgeIndex, x.shape[0], N);
  const w = opts.edgeWeight ?? null;
  if (w) checkEdgeWeight('propagate', w, edgeIndex.shape[1]);
  return propagateImpl(edgeIndex, x, w, opts.aggr ?? 'sum', N);
}

/** PyG's glorot: U(±√(6 / (size(-2) + size(-1)))) over the last two dims (also for att [1, H, C]). */
function glorot_(t: Tensor): void {
  const b = Math.sqrt(6 / (t.shape[t.ndim - 2] + t.shape[t.ndim - 1]));
  uniform_(t, -b, b);
}

// ---------------------------------------------------------------------------------------------
// Layers

/**
 * Options of {@link GCNConv}; `bias` (default true) adds a learned [out] bias, `dtype` is the
 * parameters' (float32).
 */
export interface GCNConvOptions {
  /** Â = A + 2I. Default false. */
  improved?: boolean;
  /** Add self loops (needs normalize, as in PyG). Default: the value of normalize. */
  addSelfLoops?: boolean;
  /** Apply the symmetric normalization on the fly. Default true. */
  normalize?: boolean;
  bias?: boolean;
  dtype?: DType;
}

/**
 * The graph convolution of Kipf & Welling (PyG's GCNConv): X' = D̂^-1/2 Â D̂^-1/2 X Θ + b, with
 * Θ = lin.weight [out, in] (glorot) and bias [out] (zeros).
 * @example const conv = new GCNConv(34, 16); conv.forward(x, edgeIndex) // [34, 16]
 */
export class GCNConv extends Module {
  lin: Linear;
  bias: Parameter | null;
  readonly improved: boolean;
  readonly addSelfLoops: boolean;
  readonly normalize: boolean;

  constructor(
    readonly inChannels: number,
    readonly outChannels: number,
    opts: GCNConvOptions = {},
  ) {
    super();
    this.improved = opts.improved ?? false;
    this.normalize = opts.normalize ?? true;
    this.addSelfLoops = opts.addSelfLoops ?? this.normalize;
    if (this.addSelfLoops && !this.normalize) {
      throw new Error('GCNConv: adding self loops needs normalize (as in PyG); pass addSelfLoops: false or add them with addSelfLoops()');
    }
    const dtype = opts.dtype ?? 'float32';
    this.lin = new Linear(inChannels, outChannels, { bias: false, dtype });
    this.bias = (opts.bias ?? true) ? new Parameter(empty([outChannels], dtype)) : null;
    this.resetParameters();
  }

  resetParameters(): void {
    glorot_(this.lin.weight);
    if (this.bias) zeros_(this.bias);
  }

  /** x [N, in], edgeIndex int32 [2, E], edgeWeight [E] → [N, out]. */
  forward(x: Tensor, edgeIndex: Tensor, edgeWeight?: Tensor | null): Tensor {
    const N = checkFeatures('GCNConv', x, this.inChannels);
    checkEdgeIndex('GCNConv', edgeIndex, N);
    let ei = edgeIndex,
      w = edgeWeight ?? null;
    if (w) checkEdgeWeight('GCNConv', w, edgeIndex.shape[1]);
    if (this.normalize) [ei, w] = gcnNormImpl(ei, N, this.improved, this.addSelfLoops, w, x.dtype);
    const out = propagateImpl(ei, this.lin.forward(x), w, 'sum', N); // (N, out)
    return this.bias ? add(out, this.bias) : out;
  }

  override toString(): string {
    return `GCNConv(${this.inChannels}, ${this.outChannels})`;
  }
}

/**
 * Options of {@link SAGEConv}; `bias` (default true) is lin_l's, `dtype` the parameters' (float32).
 */
export interface SAGEConvOptions {
  /** Neighbour aggregation. Default 'mean'. */
  aggr?: Aggregation;
  /** L2-normalize the output rows. Default false. */
  normalize?: boolean;
  /** Add the transformed root features lin_r(x_i). Default true. */
  rootWeight?: boolean;
  bias?: boolean;
  dtype?: DType;
}

/**
 * GraphSAGE (PyG's SAGEConv): x'_i = lin_l(aggr_{j → i} x_j) + lin_r(x_i), lin_l with bias and
 * lin_r without, both with Linear's default init as in PyG.
 * @example new SAGEConv(16, 32, { aggr: 'max' }).forward(x, edgeIndex)
 */
export class SAGEConv extends Module {
  lin_l: Linear;
  lin_r: Linear | null;
  readonly aggr: Aggregation;
  readonly normalize: boolean;
  readonly rootWeight: boolean;

  constructor(
    readonly inChannels: number,
    readonly outChannels: number,
    opts: SAGEConvOptions = {},
  ) {
    super();
    this.aggr = opts.aggr ?? 'mean';
    if (!['sum', 'add', 'mean', 'max'].includes(this.aggr)) throw new Error(`SAGEConv: unknown aggregation '${this.aggr}' (expected 'sum', 'add', 'mean' or 'max')`);
    this.normalize = opts.normalize ?? false;
    this.rootWeight = opts.rootWeight ?? true;
    const dtype = opts.dtype ?? 'float32';
    this.lin_l = new Linear(inChannels, outChannels, { bias: opts.bias ?? true, dtype });
    this.lin_r = this.rootWeight ? new Linear(inChannels, outChannels, { bias: false, dtype }) : null;
  }

  resetParameters(): void {
    this.lin_l.resetParameters();
    this.lin_r?.resetParameters();
  }

  /** x [N, in], edgeIndex int32 [2, E] → [N, out]. */
  forward(x: Tensor, edgeIndex: Tensor): Tensor {
    const N = checkFeatures('SAGEConv', x, this.inChannels);
    checkEdgeIndex('SAGEConv', edgeIndex, N);
    let out = this.lin_l.forward(propagateImpl(edgeIndex, x, null, this.aggr, N));
    if (this.lin_r) out = add(out, this.lin_r.forward(x));
    if (this.normalize) out = div(out, maximum(sqrt(sum(mul(out, out), -1, true)), 1e-12)); // F.normalize(p=2)
    return out;
  }

  override toString(): string {
    return `SAGEConv(${this.inChannels}, ${this.outChannels}, aggr=${this.aggr})`;
  }
}

/**
 * Options of {@link GATConv}: `heads` attention heads (default 1); `bias` (default true) and the
 * parameters' `dtype` (float32).
 */
export interface GATConvOptions {
  heads?: number;
  /** Concatenate the heads' outputs (else average them). Default true. */
  concat?: boolean;
  /** Slope of the LeakyReLU on the attention scores. Default 0.2. */
  negativeSlope?: number;
  /** Dropout on the attention coefficients in training. Default 0. */
  dropout?: number;
  /** Attend to each node itself too (loops already present are replaced). Default true. */
  addSelfLoops?: boolean;
  bias?: boolean;
  dtype?: DType;
}

/** Options of `GATConv.forward`. */
export interface GATForwardOptions {
  /** Also return [edgeIndex with the loops added, attention α [E', heads]] (PyG's return_attention_weights). */
  returnAttentionWeights?: boolean;
}

/**
 * The graph attention layer of Veličković et al. (PyG's GATConv, field names of PyG ≥ 2.5):
 * h = lin(x) viewed [N, H, C]; e_ji = LeakyReLU(att_src·h_j + att_dst·h_i); α = softmax of e over
 * the edges into i; x'_i = Σ_j α_ji h_j, heads concatenated [N, H·C] or averaged [N, C], + bias.
 * With returnAttentionWeights, a loop that was in the graph stays in the returned edge index with
 * α = 0 (PyG drops it); the loop appended for every node carries the attention.
 * @example new GATConv(16, 8, { heads: 4 }).forward(x, edgeIndex) // [N, 32]
 */
export class GATConv extends Module {
  lin: Linear;
  att_src: Parameter;
  att_dst: Parameter;
  bias: Parameter | null;
  readonly heads: number;
  readonly concat: boolean;
  readonly negativeSlope: number;
  readonly dropout: number;
  readonly addSelfLoops: boolean;

  constructor(
    readonly inChannels: number,
    readonly outChannels: number,
    opts: GATConvOptions = {},
  ) {
    super();
    this.heads = opts.heads ?? 1;
    if (!Number.isInteger(this.heads) || this.heads < 1) throw new Error(`GATConv: heads must be a positive integer, got ${this.heads}`);
    this.concat = opts.concat ?? true;
    this.negativeSlope = opts.negativeSlope ?? 0.2;
    this.dropout = opts.dropout ?? 0;
    if (this.dropout < 0 || this.dropout > 1) throw new Error(`GATConv: dropout must be in [0, 1], got ${this.dropout}`);
    this.addSelfLoops = opts.addSelfLoops ?? true;
    const dtype = opts.dtype ?? 'float32',
      H = this.heads,
      C = outChannels;
    this.lin = new Linear(inChannels, H * C, { bias: false, dtype });
    this.att_src = new Parameter(empty([1, H, C], dtype));
    this.att_dst = new Parameter(empty([1, H, C], dtype));
    this.bias = (opts.bias ?? true) ? new Parameter(empty([this.concat ? H * C : C], dtype)) : null;
    this.resetParameters();
  }

  resetParameters(): void {
    glorot_(this.lin.weight);
    glorot_(this.att_src);
    glorot_(this.att_dst);
    if (this.bias) zeros_(this.bias);
  }

  /** x [N, in], edgeIndex int32 [2, E] → [N, heads·out] (concat) or [N, out]. */
  forward(x: Tensor, edgeIndex: Tensor): Tensor;
  forward(x: Tensor, edgeIndex: Tensor, opts: GATForwardOptions & { returnAttentionWeights: true }): [Tensor, [Tensor, Tensor]];
  forward(x: Tensor, edgeIndex: Tensor, opts?: GATForwardOptions): Tensor | [Tensor, [Tensor, Tensor]];
  forward(x: Tensor, edgeIndex: Tensor, opts: GATForwardOptions = {}): Tensor | [Tensor, [Tensor, Tensor]] {
    const N = checkFeatures('GATConv', x, this.inChannels);
    checkEdgeIndex('GATConv', edgeIndex, N);
    const H = this.heads,
      C = this.outChannels;
    const h = reshape(this.lin.forward(x), [N, H, C]); // (N, H, C)
    const alphaSrc = sum(mul(h, this.att_src), -1); // (N, H)
    const alphaDst = sum(mul(h, this.att_dst), -1); // (N, H)
    let ei = edgeIndex,
      keep: Tensor | null = null;
    if (this.addSelfLoops) {
      // Every node attends to itself once: old loops are masked out, one loop per node appended.
      const [s, d] = endpoints(edgeIndex);
      const loops = arange(0, N, 1, { dtype: 'int32', device: edgeIndex.device });
      ei = concat([edgeIndex, stack([loops, loops])], 1);
      keep = concat([notEqual(s, d), full([N], 1, { dtype: 'bool', device: edgeIndex.device })], 0);
    }
    const [src, dst] = endpoints(ei);
    let score = leakyRelu(add(indexSelect(alphaSrc, 0, src), indexSelect(alphaDst, 0, dst)), this.negativeSlope); // (E', H)
    if (keep) score = where(unsqueeze(keep, 1), score, -Infinity);
    let alpha = softmaxImpl(score, dst, N); // (E', H)
    alpha = dropout(alpha, this.dropout, this.training);
    const msg = mul(indexSelect(h, 0, src), unsqueeze(alpha, -1)); // (E', H, C)
    let out = scatterSum(msg, dst, N); // (N, H, C)
    out = this.concat ? reshape(out, [N, H * C]) : mean(out, 1);
    if (this.bias) out = add(out, this.bias);
    return opts.returnAttentionWeights ? [out, [ei, alpha]] : out;
  }

  override toString(): string {
    return `GATConv(${this.inChannels}, ${this.outChannels}, heads=${this.heads})`;
  }
}
