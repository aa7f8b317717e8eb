// Compile the AssemblyScript kernels in wasm/assembly into the four variants the wasm backend
// chooses from at run time, and embed them (base64) in src/backends/wasm/binaries.ts, a generated
// file: no fetch or file path is needed to load them in Node or in a browser bundle.
// First, the op and task codes shared by both sides are generated from the primitive catalogue
// (tools/prims.mjs) into src/backends/wasm/codes.ts and wasm/assembly/codes.ts, with the per-op
// loops of the elementwise kernels (wasm/assembly/op-loops.ts), and the build
// stops, naming the file, function and op, where an AssemblyScript function that dispatches on the
// codes does not handle one, or does not trap on an unknown one.

import asc from 'assemblyscript/asc';
import { createHash } from 'node:crypto';
import { readFile, readdir, writeFile, mkdir } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import path from 'node:path';
import { checkDispatch, codeFamilies, readPrimLists, renderAssemblyScript, renderOpLoops, renderTypeScript } from './prims.mjs';

const root = path.dirname(path.dirname(fileURLToPath(import.meta.url)));
const src = path.join(root, 'wasm', 'assembly');
const outFile = path.join(root, 'src', 'backends', 'wasm', 'binaries.ts');
const codesTs = path.join(root, 'src', 'backends', 'wasm', 'codes.ts');
const codesAs = path.join(src, 'codes.ts');
const opLoopsAs = path.join(src, 'op-loops.ts');

/**
 * Write `text` unless the file already holds it (so watchers and tsc's incremental builds see no change).
 * @param {string} file
 * @param {string} text
 */
async function writeIfChanged(file, text) {
  const old = await readFile(file, 'utf8').catch(() => null);
  if (old !== text) await writeFile(file, text);
}

const prims = readPrimLists(root);
const families = codeFamilies(prims);
await writeIfChanged(codesTs, renderTypeScript(families));
await writeIfChanged(codesAs, renderAssemblyScript(families));
await writeIfChanged(opLoopsAs, renderOpLoops(prims));
const sources = [];
for (const name of (await readdir(src)).sort()) {
  if (name.endsWith('.ts') && name !== 'codes.ts') sources.push({ file: `wasm/assembly/${name}`, text: await readFile(path.join(src, name), 'utf8') });
}
const problems = checkDispatch(sources, families);
if (problems.length) {
  console.error(`build-wasm: the kernels do not handle every code:\n  ${problems.join('\n  ')}`);
  process.exit(1);
}

const MAX_PAGES = 65536; // 4 GiB: the most a wasm32 memory can address

// The binaries depend only on the kernel sources (the generated ones included), this script,
// the catalogue's generator and the compiler: when none of them changed since binaries.ts was
// written, it is kept (a second `npm run build`, as `npm test` runs after `npm ci`, skips asc's
// ten-odd seconds).
const inputs = createHash('sha256');
for (const s of sources) inputs.update(`${s.file}\0${s.text}\0`);
for (const f of [codesAs, fileURLToPath(import.meta.url), path.join(root, 'tools', 'prims.mjs'), path.join(root, 'node_modules', 'assemblyscript', 'package.json')]) {
  inputs.update(`${path.relative(root, f)}\0${await readFile(f, 'utf8').catch(() => '')}\0`);
}
const stamp = `// inputs: ${inputs.digest('hex')}`;
if ((await readFile(outFile, 'utf8').catch(() => '')).includes(`\n${stamp}\n`) && !process.argv.includes('--force')) {
  console.log('wasm: binaries up to date with wasm/assembly');
  process.exit(0);
}

const variants = {
  simd: { entry: 'index.ts', relaxed: false, threads: false },
  relaxed: { entry: 'index.ts', relaxed: true, threads: false },
  simdThreads: { entry: 'index-threads.ts', relaxed: false, threads: true },
  relaxedThreads: { entry: 'index-threads.ts', relaxed: true, threads: true },
};

/**
 * One variant's binary.
 * @param {string} name
 * @param {{ entry: string, relaxed: boolean, threads: boolean }} v
 */
async function compile(name, v) {
  const outWasm = `${name}.wasm`;
  const args = [
    path.join(src, v.entry),
    '-O3',
    '--noAssert',
    '--runtime',
    'stub',
    '--use',
    'abort=',
    '--importMemory',
    '--initialMemory',
    '2',
    '--maximumMemory',
    String(MAX_PAGES),
    '--enable',
    'simd',
    '--use',
    `RELAXED=${v.relaxed ? 1 : 0}`,
    '--use',
    `THREADS=${v.threads ? 1 : 0}`,
    ...(v.relaxed ? ['--enable', 'relaxed-simd'] : []),
    ...(v.threads ? ['--enable', 'threads', '--sharedMemory'] : []),
    '--outFile',
    outWasm,
  ];
  let binary = null;
  /** @type {string[]} */
  const stderr = [];
  const { error } = await asc.main(args, {
    readFile: async (f, base) => {
      try {
        return await readFile(path.resolve(base, f), 'utf8');
      } catch {
        return null;
      }
    },
    writeFile: (f, contents) => {
      if (f.endsWith('.wasm')) binary = contents;
    },
    listFiles: () => [],
    stdout: { write: () => true },
    stderr: {
      write: (s) => {
        stderr.push(String(s));
        return true;
      },
    },
  });
  if (error || !binary) throw new Error(`asc failed for ${name}: ${error ?? 'no output'}\n${stderr.join('')}`);
  return Buffer.from(binary);
}

const lines = ['// Generated by tools/build-wasm.mjs from wasm/assembly: do not edit. The compiled kernels, base64.', stamp, ''];
for (const [name, v] of Object.entries(variants)) {
  const bin = await compile(name, v);
  lines.push(`export const ${name} = '${bin.toString('base64')}';`);
  console.log(`wasm ${name}: ${bin.length} bytes`);
}
lines.push(`export const MAX_PAGES = ${MAX_PAGES};`, '');
await mkdir(path.dirname(outFile), { recursive: true });
await writeFile(outFile, lines.join('\n'));
