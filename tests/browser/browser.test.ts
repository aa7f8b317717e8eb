// The wasm backend in a real browser (headless Chromium): Web Workers over shared memory, under
// cross-origin isolation. Skipped, with the reason, where no Chromium is installed (CI).
import { describe, it, expect } from 'vitest';
import { existsSync, readFileSync } from 'node:fs';
import { createServer } from 'node:http';
import { join, normalize } from 'node:path';
import { fileURLToPath } from 'node:url';
import { DEFAULT_MAX_THREADS } from '../../src/backends/wasm/pool.js';

const root = fileURLToPath(new URL('../..', import.meta.url));
const chromium = ['/usr/bin/chromium', '/usr/bin/chromium-browser', '/usr/bin/google-chrome'].find(existsSync);
const TYPES: Record<string, string> = { '.html': 'text/html', '.js': 'text/javascript', '.mjs': 'text/javascript' };

/** Serves the repository (with cross-origin isolation) and opens `page` in headless Chromium. */
async function openPage<T>(page: string, args: string[]): Promise<T> {
  const { chromium: pw } = await import('playwright-core');
  // Cross-origin isolation (COOP + COEP) is what lets a page share Wasm memory with workers.
  const server = createServer((req, res) => {
    const path = normalize(join(root, decodeURIComponent((req.url ?? '/').split('?')[0])));
    if (!path.startsWith(root) || !existsSync(path)) {
      res.writeHead(404).end();
      return;
    }
    const ext = path.slice(path.lastIndexOf('.'));
    res
      .writeHead(200, {
        'Content-Type': TYPES[ext] ?? 'application/octet-stream',
        'Cross-Origin-Opener-Policy': 'same-origin',
        'Cross-Origin-Embedder-Policy': 'require-corp',
      })
      .end(readFileSync(path));
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = (server.address() as { port: number }).port;
  const browser = await pw.launch({
    executablePath: chromium,
    args: ['--no-sandbox', '--disable-background-networking', '--disable-component-update', '--no-first-run', ...args],
  });
  try {
    const tab = await browser.newPage();
    await tab.goto(`http://127.0.0.1:${port}/tests/browser/${page}`);
    await tab.waitForFunction(() => (window as unknown as { result?: unknown }).result !== undefined, undefined, { timeout: 60_000 });
    return await tab.evaluate(() => (window as unknown as { result: T }).result);
  } finally {
    await browser.close();
    server.close();
  }
}

describe('wasm backend in a browser', () => {
  it.skipIf(!chromium)(`runs on Web Workers with SIMD and matches js${chromium ? '' : ' (skipped: no Chromium installed)'}`, async () => {
    const result = await openPage<Record<string, any>>('page.html', ['--disable-gpu']);
    expect(result.error).toBeUndefined();
    expect(result.ok).toBe(true);
    expect(result.isolated).toBe(true);
    expect(result.backend).toBe('wasm');
    expect(result.info.variant).toMatch(/Threads$/);
    expect(result.info.threads).toBe(Math.min(Math.max(1, result.cores), DEFAULT_MAX_THREADS));
    expect(result.maxErr).toBeLessThan(1e-4);
    expect(result.gradOk).toBe(true);
    console.log(`browser: ${JSON.stringify(result.info)}`);
  });
});

describe('webgpu backend in a browser', () => {
  // Chromium's own SwiftShader stands in for a GPU (WebGPU on Linux is behind a flag).
  const flags = [
    '--enable-unsafe-webgpu',
    '--enable-features=Vulkan',
    '--use-vulkan=swiftshader',
    '--use-webgpu-adapter=swiftshader',
    '--use-angle=swiftshader',
    '--disable-vulkan-surface',
  ];
  it.skipIf(!chromium)(`runs on navigator.gpu and matches js${chromium ? '' : ' (skipped: no Chromium installed)'}`, async () => {
    const result = await openPage<Record<string, any>>('webgpu.html', flags);
    expect(result.error).toBeUndefined();
    expect(result.ok).toBe(true);
    expect(result.info.source).toBe('navigator.gpu');
    expect(result.maxErr).toBeLessThan(1e-5);
    expect(result.gradErr).toBeLessThan(1e-6);
    console.log(`browser webgpu: ${JSON.stringify(result.info.adapter)}`);
  });
});
