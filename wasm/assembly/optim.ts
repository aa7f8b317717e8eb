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
  for (let i = 0; i < n; i++) {
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
