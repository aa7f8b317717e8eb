// Scalar math missing from JavaScript's Math: erf accurate to float64 (finite-difference checks need it).

const TWO_OVER_SQRT_PI = 1.1283791670955126;
const ONE_OVER_SQRT_PI = 0.5641895835477563;

/**
 * erf(x). For |x| < 2.5 the all-positive series erf(x) = 2/√π·e^{-x²}·Σ 2ⁿx^{2n+1}/(1·3·…·(2n+1))
 * (no cancellation); beyond, erfc's continued fraction evaluated by Lentz's method.
 */
export function erf(x: number): number {
  if (Number.isNaN(x)) return NaN;
  const ax = Math.abs(x);
  if (ax < 2.5) {
    const x2 = x * x;
    let term = x,
      sum = x;
    for (let n = 1; n < 200; n++) {
      term *= (2 * x2) / (2 * n + 1);
      sum += term;
      if (Math.abs(term) < 1e-17 * Math.abs(sum)) break;
    }
    return TWO_OVER_SQRT_PI * Math.exp(-x2) * sum;
  }
  if (ax > 6) return x > 0 ? 1 : -1;
  // erfc(x) = e^{-x²}/√π · 1/(x + (1/2)/(x + 1/(x + (3/2)/(x + 2/(x + ...)))))
  const tiny = 1e-300;
  let f = ax,
    C = ax,
    D = 0;
  for (let n = 1; n < 300; n++) {
    const a = n / 2;
    D = ax + a * D;
    if (D === 0) D = tiny;
    D = 1 / D;
    C = ax + a / C;
    if (C === 0) C = tiny;
    const delta = C * D;
    f *= delta;
    if (Math.abs(delta - 1) < 1e-16) break;
  }
  const erfc = (Math.exp(-ax * ax) * ONE_OVER_SQRT_PI) / f;
  return x > 0 ? 1 - erfc : erfc - 1;
}
