// Text widths from a TrueType font's own tables (cmap + hmtx), so charts laid out in Node without a
// canvas leave the right room for labels (Vega's fallback guesses 0.8 em per character).

/** Advance widths of one font: `width('loss', 12)` is the width in pixels at 12 px. */
export interface FontMetrics {
  unitsPerEm: number;
  width(text: string, fontSize: number): number;
}

/** Reads the tables of a TrueType/OpenType font that give each character's advance width. */
export function parseFontMetrics(bytes: Uint8Array): FontMetrics {
  const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const tables = new Map<string, number>();
  const numTables = dv.getUint16(4);
  for (let i = 0; i < numTables; i++) {
    const rec = 12 + 16 * i;
    const tag = String.fromCharCode(bytes[rec], bytes[rec + 1], bytes[rec + 2], bytes[rec + 3]);
    tables.set(tag, dv.getUint32(rec + 8));
  }
  const need = (tag: string): number => {
    const off = tables.get(tag);
    if (off === undefined) throw new Error(`parseFontMetrics: the font has no '${tag}' table`);
    return off;
  };
  const unitsPerEm = dv.getUint16(need('head') + 18);
  const numberOfHMetrics = dv.getUint16(need('hhea') + 34);
  const hmtx = need('hmtx');
  const advance = (glyph: number): number => dv.getUint16(hmtx + 4 * Math.min(glyph, numberOfHMetrics - 1));
  const glyphOf = cmapLookup(dv, need('cmap'));

  const cache = new Map<number, number>();
  const advanceOf = (cp: number): number => {
    let a = cache.get(cp);
    if (a === undefined) {
      a = advance(glyphOf(cp));
      cache.set(cp, a);
    }
    return a;
  };
  return {
    unitsPerEm,
    width(text: string, fontSize: number): number {
      let units = 0;
      for (const ch of text) units += advanceOf(ch.codePointAt(0)!);
      return (units * fontSize) / unitsPerEm;
    },
  };
}

/** code point → glyph index, from the best Unicode subtable: format 12 (full range) or 4 (BMP). */
function cmapLookup(dv: DataView, cmap: number): (cp: number) => number {
  const n = dv.getUint16(cmap + 2);
  let fmt4 = -1,
    fmt12 = -1;
  for (let i = 0; i < n; i++) {
    const platform = dv.getUint16(cmap + 4 + 8 * i),
      encoding = dv.getUint16(cmap + 6 + 8 * i);
    const sub = cmap + dv.getUint32(cmap + 8 + 8 * i);
    const format = dv.getUint16(sub);
    const unicode = platform === 0 || (platform === 3 && (encoding === 1 || encoding === 10));
    if (!unicode) continue;
    if (format === 12) fmt12 = sub;
    else if (format === 4) fmt4 = sub;
  }
  if (fmt12 >= 0) {
    const groups = dv.getUint32(fmt12 + 12);
    return (cp) => {
      let lo = 0,
        hi = groups - 1;
      while (lo <= hi) {
        const mid = (lo + hi) >> 1,
          g = fmt12 + 16 + 12 * mid;
        const start = dv.getUint32(g),
          end = dv.getUint32(g + 4);
        if (cp < start) hi = mid - 1;
        else if (cp > end) lo = mid + 1;
        else return dv.getUint32(g + 8) + (cp - start);
      }
      return 0;
    };
  }
  if (fmt4 >= 0) {
    const segCount = dv.getUint16(fmt4 + 6) / 2;
    const ends = fmt4 + 14,
      starts = ends + 2 * segCount + 2,
      deltas = starts + 2 * segCount,
      ranges = deltas + 2 * segCount;
    return (cp) => {
      if (cp > 0xffff) return 0;
      for (let s = 0; s < segCount; s++) {
        if (cp > dv.getUint16(ends + 2 * s)) continue;
        const start = dv.getUint16(starts + 2 * s);
        if (cp < start) return 0;
        const delta = dv.getInt16(deltas + 2 * s),
          ro = dv.getUint16(ranges + 2 * s);
        if (ro === 0) return (cp + delta) & 0xffff;
        const g = dv.getUint16(ranges + 2 * s + ro + 2 * (cp - start));
        return g === 0 ? 0 : (g + delta) & 0xffff;
      }
      return 0;
    };
  }
  throw new Error('parseFontMetrics: the font has no Unicode cmap subtable (format 4 or 12)');
}
