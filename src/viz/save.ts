// Write a Figure to disk (Node): the format follows the file extension; writes are atomic.

import type { Figure } from './render.js';

/**
 * Write `fig` to `path`: `.svg` writes the SVG, `.png` the PNG; a path without an extension gets
 * both (`path.svg` and `path.png`). Any other extension is an error. Each file is written atomically
 * (temporary file, then rename), so a reader never sees half a picture. Returns the paths written.
 *
 *     await saveFigure(await plotHistory(h.history), 'runs/mnist/history.png');
 */
export async function saveFigure(fig: Figure, path: string): Promise<string[]> {
  if (!fig || typeof fig.svg !== 'string' || !(fig.png instanceof Uint8Array)) {
    throw new Error('saveFigure: expected a Figure ({ svg, png }) from plotHistory, plotConfusionMatrix or plotImageGrid');
  }
  const { writeFileAtomic } = await import('../platform/fs.js');
  const { extname } = await import('node:path');
  const ext = extname(path).toLowerCase();
  if (ext === '.svg') {
    await writeFileAtomic(path, fig.svg);
    return [path];
  }
  if (ext === '.png') {
    await writeFileAtomic(path, fig.png);
    return [path];
  }
  if (ext === '') {
    await writeFileAtomic(`${path}.svg`, fig.svg);
    await writeFileAtomic(`${path}.png`, fig.png);
    return [`${path}.svg`, `${path}.png`];
  }
  throw new Error(`saveFigure: cannot write '${ext}' (${path}); use a .png or .svg file name, or none for both`);
}
