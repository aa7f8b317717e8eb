// float32 unfold (im2col) and fold (col2im) between contiguous images [N, C, H, W] and patches
// [N, Ho, Wo, C, kh, kw] (src/backends/js/window.ts is the reference). Geometry is passed packed:
// g = [N, C, H, W, Ho, Wo, kh, kw, sh, sw, dh, dw, pt, pl] as i32 at `geo`.

// @ts-ignore: decorator
@inline function G(geo: usize, i: i32): i32 { return load<i32>(geo + (<usize>i << 2)); }

export function unfold_f32(x: usize, out: usize, geo: usize, value: f32): void {
  const N = G(geo, 0), C = G(geo, 1), H = G(geo, 2), W = G(geo, 3), Ho = G(geo, 4), Wo = G(geo, 5);
  const kh = G(geo, 6), kw = G(geo, 7), sh = G(geo, 8), sw = G(geo, 9), dh = G(geo, 10), dw = G(geo, 11), pt = G(geo, 12), pl = G(geo, 13);
  let o = out;
  for (let n = 0; n < N; n++) {
    for (let oy = 0; oy < Ho; oy++) {
      for (let ox = 0; ox < Wo; ox++) {
        const x0 = ox * sw - pl;
        const inside = x0 >= 0 && x0 + (kw - 1) * dw < W;
        for (let c = 0; c < C; c++) {
          const base = x + (<usize>((n * C + c) * H) * <usize>W << 2);
          for (let i = 0; i < kh; i++) {
            const y = oy * sh - pt + i * dh;
            if (y < 0 || y >= H) {
              for (let j = 0; j < kw; j++) store<f32>(o + (<usize>j << 2), value);
            } else {
              const row = base + (<usize>(y * W) << 2);
              if (inside) {
                for (let j = 0; j < kw; j++) store<f32>(o + (<usize>j << 2), load<f32>(row + (<usize>(x0 + j * dw) << 2)));
              } else {
                for (let j = 0; j < kw; j++) {
                  const xx = x0 + j * dw;
                  store<f32>(o + (<usize>j << 2), xx >= 0 && xx < W ? load<f32>(row + (<usize>xx << 2)) : value);
                }
              }
            }
            o += <usize>kw << 2;
          }
        }
      }
    }
  }
}

export function fold_f32(g: usize, out: usize, geo: usize): void {
  const N = G(geo, 0), C = G(geo, 1), H = G(geo, 2), W = G(geo, 3), Ho = G(geo, 4), Wo = G(geo, 5);
  const kh = G(geo, 6), kw = G(geo, 7), sh = G(geo, 8), sw = G(geo, 9), dh = G(geo, 10), dw = G(geo, 11), pt = G(geo, 12), pl = G(geo, 13);
  memory.fill(out, 0, <usize>N * <usize>C * <usize>H * <usize>W << 2);
  let p = g;
  for (let n = 0; n < N; n++) {
    for (let oy = 0; oy < Ho; oy++) {
      for (let ox = 0; ox < Wo; ox++) {
        const x0 = ox * sw - pl;
        for (let c = 0; c < C; c++) {
          const base = out + (<usize>((n * C + c) * H) * <usize>W << 2);
          for (let i = 0; i < kh; i++) {
            const y = oy * sh - pt + i * dh;
            if (y >= 0 && y < H) {
              const row = base + (<usize>(y * W) << 2);
              for (let j = 0; j < kw; j++) {
                const xx = x0 + j * dw;
                if (xx >= 0 && xx < W) {
                  const q = row + (<usize>xx << 2);
                  store<f32>(q, load<f32>(q) + load<f32>(p + (<usize>j << 2)));
                }
              }
            }
            p += <usize>kw << 2;
          }
        }
      }
    }
  }
}
