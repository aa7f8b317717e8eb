// Reverse-mode differentiation: walk the tape from a root in reverse topological order, calling each
// node's vector-Jacobian product and summing gradients per tensor.

import { bindBackward, releaseNode, type BackwardOptions, type GradNode, type Tensor } from '../tensor/tensor.js';
import { onesLike } from '../tensor/creation.js';
import { withGradMode } from '../ops/tape.js';
import { alias } from './tape.js';
import { add } from '../ops/binary.js';
import { fmtShape, shapesEqual } from '../tensor/shape.js';
import { cast } from '../ops/unary.js';

/** Tensors reachable from root through nodes, in topological order (inputs before outputs). */
function topoOrder(root: Tensor): Tensor[] {
  const order: Tensor[] = [];
  const seen = new Set<Tensor>();
  // Iterative DFS: recurrent models make graphs deeper than the JS call stack.
  const stack: [Tensor, number][] = [[root, 0]];
  seen.add(root);
  while (stack.length) {
    const top = stack[stack.length - 1];
    const [t, i] = top;
    const inputs = t.gradNode?.inputs ?? [];
    if (i < inputs.length) {
      top[1]++;
      const child = inputs[i];
      if (child.requiresGrad && !seen.has(child)) {
        seen.add(child);
        stack.push([child, 0]);
      }
    } else {
      stack.pop();
      order.push(t);
    }
  }
  return order;
}

/**
 * Gradients of `root` (scalar unless `grad` is given). Without `inputs`, they are added into the
 * `.grad` of every leaf that requires grad (and of non-leaves marked retainGrad()); with `inputs`,
 * they are returned instead, leaving `.grad` untouched.
 */
export function runBackward(root: Tensor, grad: Tensor | undefined, opts: BackwardOptions, inputs?: readonly Tensor[]): (Tensor | null)[] {
  root.assertAlive('backward');
  if (!root.requiresGrad) throw new Error('backward: the tensor does not require grad and has no gradient function (was it made under noGrad, or from tensors without requiresGrad?)');
  if (!grad && root.size !== 1) throw new Error(`backward: a gradient can be created implicitly only for a one-element output, got shape ${fmtShape(root.shape)}; pass backward(grad)`);
  if (grad && !shapesEqual(grad.shape, root.shape)) throw new Error(`backward: gradient shape ${fmtShape(grad.shape)} does not match output ${fmtShape(root.shape)}`);
  const wanted = inputs ? new Map(inputs.map((t, i) => [t, i])) : null;
  const results: (Tensor | null)[] = inputs ? inputs.map(() => null) : [];
  return withGradMode(!!opts.createGraph, () => {
    const order = topoOrder(root);
    const grads = new Map<Tensor, Tensor>();
    grads.set(root, grad ? alias(grad) : onesLike(root));
    const owned = new Set<Tensor>(grads.values());
    const done: GradNode[] = [];
    // Store a gradient, aliasing it when the same tensor object is already stored elsewhere (a VJP
    // like add's returns g twice), so disposing one entry never frees another's data.
    const put = (t: Tensor, g: Tensor): void => {
      if (g.dtype !== t.dtype) g = cast(g, t.dtype);
      if (!shapesEqual(g.shape, t.shape)) throw new Error(`backward: internal error: gradient ${fmtShape(g.shape)} for tensor ${fmtShape(t.shape)} (${t.gradNode?.name ?? 'leaf'})`);
      if (owned.has(g)) g = alias(g);
      owned.add(g);
      const prev = grads.get(t);
      if (prev) {
        grads.set(t, add(prev, g));
        owned.add(grads.get(t)!);
        prev.dispose();
        g.dispose();
      } else grads.set(t, g);
    };
    for (let k = order.length - 1; k >= 0; k--) {
      const t = order[k];
      const g = grads.get(t);
      if (!g) continue;
      grads.delete(t);
      const node = t.gradNode;
      if (node) {
        if (node.released) throw new Error(`backward: trying to go through the graph a second time (at ${node.name}); pass { retainGraph: true } to the first backward`);
        const gin = node.vjp(g);
        node.inputs.forEach((inp, i) => {
          const gi = gin[i];
          if (gi && inp.requiresGrad) put(inp, gi);
        });
        if (!opts.retainGraph) done.push(node);
      }
      if (wanted?.has(t)) {
        results[wanted.get(t)!] = g.keep();
      } else if (!wanted && (node === null || t.retainsGrad)) {
        if (t.grad) {
          const sum = add(t.grad, g).keep();
          t.grad.dispose();
          g.dispose();
          t.grad = sum;
        } else t.grad = g.keep();
      } else {
        g.dispose();
      }
    }
    for (const g of grads.values()) g.dispose();
    // Release after the whole pass: releasing frees inputs whose dispose was deferred, and their own
    // nodes with them, which must not happen before the walk has reached those nodes.
    for (const node of done) releaseNode(node);
    return results;
  });
}

// t.backward() runs this walk.
bindBackward((root, grad, opts) => {
  runBackward(root, grad, opts);
});
