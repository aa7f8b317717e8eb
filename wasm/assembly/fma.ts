// a·b + c on four float32 lanes: one fused instruction where relaxed SIMD is on (RELAXED=1 at build time).


// @ts-ignore: decorator
@inline
export function madd(a: v128, b: v128, c: v128): v128 {
  // @ts-ignore: RELAXED is a build-time constant from `asc --use RELAXED=0|1`
  if (RELAXED) return f32x4.relaxed_madd(a, b, c);
  return f32x4.add(f32x4.mul(a, b), c);
}
