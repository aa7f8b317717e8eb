// Where the PNG rasterizer (resvg's WebAssembly build) and its fonts come from: node_modules in Node,
// caller-supplied bytes in a browser; and the optional packages pictures need, with the error that
// says what to install when one is missing.

/** What `@resvg/resvg-wasm`'s `initWasm` accepts: bytes, a compiled module, a Response or a URL. */
export type WasmSource = BufferSource | WebAssembly.Module | Response | URL | string;

/** TrueType/OpenType font bytes used to measure text and to draw it into PNGs (resvg has no system fonts). */
export interface VizFonts {
  regular: Uint8Array;
  /** Used for titles; regular is used when absent. */
  bold?: Uint8Array;
  /** The fonts' family name, which PNGs draw 'sans-serif' text with (default 'Roboto'). */
  family?: string;
}

/**
 * The rasterizer's WebAssembly and the fonts for {@link configureViz}, each given directly or as a
 * function that loads it when first needed.
 */
export interface VizAssets {
  wasm?: WasmSource | (() => Promise<WasmSource>);
  fonts?: VizFonts | (() => Promise<VizFonts>);
}

let configured: VizAssets = {};
let fontsPromise: Promise<VizFonts> | null = null;

/**
 * Supply the rasterizer and fonts yourself. Node needs nothing (both are read from node_modules:
 * `@resvg/resvg-wasm/index_bg.wasm` and Roboto from `@expo-google-fonts/roboto`); a browser must
 * call this before asking for PNGs, e.g.
 *
 *     nb.viz.configureViz({ wasm: fetch(wasmUrl), fonts: { regular: new Uint8Array(await (await fetch(ttfUrl)).arrayBuffer()) } });
 *
 * SVG output in a browser needs none of it (the browser measures text with its canvas).
 */
export function configureViz(assets: VizAssets): void {
  configured = { ...configured, ...assets };
  if (assets.fonts) fontsPromise = null;
}

/**
 * The packages pictures need. They are optional peer dependencies of nabla, so `npm install nabla`
 * leaves them out (about 35 MB with their dependencies); a project that draws installs them.
 */
export const VIZ_PACKAGES = ['vega', 'vega-lite', '@resvg/resvg-wasm', '@expo-google-fonts/roboto', 'fast-png'] as const;

function missingPackage(name: string, cause: unknown): Error {
  return new Error(`viz: pictures need the optional packages ${VIZ_PACKAGES.join(', ')}, and '${name}' is not installed: ` + `npm install ${VIZ_PACKAGES.join(' ')}`, { cause });
}

/**
 * `load()`, a dynamic import of the optional package `name` (a literal specifier there, which
 * bundlers can see), turning "not found" for that package into an error saying what to install.
 */
export async function importOptional<T>(name: string, load: () => Promise<T>): Promise<T> {
  try {
    return await load();
  } catch (e) {
    // Node: ERR_MODULE_NOT_FOUND "Cannot find package 'vega' ..."; browsers: "Failed to resolve module specifier "vega"".
    const message = String((e as Error)?.message);
    if (message.includes(`'${name}'`) || message.includes(`"${name}"`)) throw missingPackage(name, e);
    throw e;
  }
}

/**
 * Load every picture package now, so that a program whose pictures come at the end of a long run
 * (`nabla train mnist --plot`) stops at its start when one is missing. Node only (the fonts).
 */
export async function loadVizPackages(): Promise<void> {
  await Promise.all([
    importOptional('vega', () => import('vega')),
    importOptional('vega-lite', () => import('vega-lite')),
    importOptional('@resvg/resvg-wasm', () => import('@resvg/resvg-wasm')),
    importOptional('fast-png', () => import('fast-png')),
    loadFonts(),
  ]);
}

export function isNode(): boolean {
  return typeof process !== 'undefined' && typeof process.versions?.node === 'string';
}

/** Node-only: the path of a file inside an installed package, read as bytes. */
async function readPackageFile(specifier: string): Promise<Uint8Array> {
  const { createRequire } = await import('node:module');
  const { readFile } = await import('node:fs/promises');
  const require = createRequire(import.meta.url);
  let path: string;
  try {
    path = require.resolve(specifier);
  } catch (e) {
    const parts = specifier.split('/');
    throw missingPackage(parts.slice(0, specifier.startsWith('@') ? 2 : 1).join('/'), e);
  }
  const b = await readFile(path);
  return new Uint8Array(b.buffer, b.byteOffset, b.byteLength);
}

function noAssets(what: string): Error {
  return new Error(`viz: ${what} is not available outside Node.js until you call nb.viz.configureViz({ wasm, fonts }) ` + `(the SVG output works without it)`);
}

/** The fonts: configured ones, else Roboto Regular and Bold from node_modules (Node only). */
export function loadFonts(): Promise<VizFonts> {
  fontsPromise ??= (async () => {
    const f = configured.fonts;
    if (f) return typeof f === 'function' ? await f() : f;
    if (!isNode()) throw noAssets('the PNG font');
    const [regular, bold] = await Promise.all([
      readPackageFile('@expo-google-fonts/roboto/400Regular/Roboto_400Regular.ttf'),
      readPackageFile('@expo-google-fonts/roboto/700Bold/Roboto_700Bold.ttf'),
    ]);
    return { regular, bold, family: 'Roboto' };
  })().catch((e) => {
    fontsPromise = null;
    throw e;
  });
  return fontsPromise;
}

/** The resvg WebAssembly binary: configured, else read from node_modules (Node only). */
export async function loadWasm(): Promise<WasmSource> {
  const w = configured.wasm;
  if (w) return typeof w === 'function' ? await w() : w;
  if (!isNode()) throw noAssets('the PNG rasterizer');
  return readPackageFile('@resvg/resvg-wasm/index_bg.wasm');
}
