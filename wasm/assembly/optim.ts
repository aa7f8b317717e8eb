// Fused optimizer updates for float32, in exactly the order of operations of the composed
// TypeScript versions (src/optim), so both give the same bits.

/**
 * One Adam/AdamW step over n contiguous elements (PyTorch's single-tensor path, no amsgrad):
 *   p ← p(1 − lr·wd) [decoupled] | g ← g + wd·p [L2];  m ← lerp(m, g, 1−β₁);  v ← β₂v + (1−β₂)g·g
 *   p ← p + (m · −stepSize) / (√v / bc2Sqrt + eps)
 * Results go to fresh buffers pOut, mOut, vOut (tensors' storages are never written in place).
 */
export function adam_f32(
  p: usize, g: usize, m: usize, v: usize, pOut: usize, mOut: usize, vOut: usize, n: i32,
  beta1: f32, beta2: f32, stepSize: f32, bc2Sqrt: f32, eps: f32, wd: f32, decoupledScale: f32, mode: i32,
): void {
  // mode: 0 no weight decay, 1 L2 (into the gradient), 2 decoupled (scale p first)
  const w = <f32>1 - beta1;
  const useLerpFromA = Mathf.abs(w) < 0.5;
  const omb2 = <f32>1 - beta2;
  let i = 0;
  // Four lanes at a time: the same IEEE float32 operations per lane, so the same bits as below.
  const vw = f32x4.splat(w), vomw = f32x4.splat(<f32>1 - w), vb2 = f32x4.splat(beta2), vomb2 = f32x4.splat(omb2);
  const vwd = f32x4.splat(wd), vds = f32x4.splat(decoupledScale), vbc2 = f32x4.splat(bc2Sqrt), veps = f32x4.splat(eps);
  const vstep = f32x4.splat(-stepSize);
  for (; i + 4 <= n; i += 4) {
    const o = <usize>i << 2;
    let pv = v128.load(p + o);
    let gv = v128.load(g + o);
    if (mode == 2) pv = f32x4.mul(pv, vds);
    else if (mode == 1) gv = f32x4.add(gv, f32x4.mul(pv, vwd));
    const mv = v128.load(m + o);
    const d = f32x4.sub(gv, mv);
    const mn = useLerpFromA ? f32x4.add(mv, f32x4.mul(d, vw)) : f32x4.sub(gv, f32x4.mul(d, vomw));
    const vn = f32x4.add(f32x4.mul(v128.load(v + o), vb2), f32x4.mul(f32x4.mul(gv, vomb2), gv));
    const denom = f32x4.add(f32x4.div(f32x4.sqrt(vn), vbc2), veps);
    v128.store(pOut + o, f32x4.add(pv, f32x4.div(f32x4.mul(mn, vstep), denom)));
    v128.store(mOut + o, mn);
    v128.store(vOut + o, vn);
  }
  for (; i < n; i++) {
    const o = <usize>i << 2;
    let pv = load<f32>(p + o);
    let gv = load<f32>(g + o);
    if (mode == 2) pv = pv * decoupledScale;
    else if (mode == 1) gv = gv + pv * wd;
    const mv = load<f32>(m + o);
    // lerp(a, b, w) = |w| < 0.5 ? a + (b − a)·w : b − (b − a)·(1 − w)
    const d = gv - mv;
    const mn: f32 = useLerpFromA ? mv + d * w : gv - d * (<f32>1 - w);
    const vn: f32 = load<f32>(v + o) * beta2 + (gv * omb2) * gv;
    const denom: f32 = Mathf.sqrt(vn) / bc2Sqrt + eps;
    store<f32>(pOut + o, pv + (mn * -stepSize) / denom);
    store<f32>(mOut + o, mn);
    store<f32>(vOut + o, vn);
  }
}
