// The one list of primitives (src/backends/primitives.ts, with the rest in backend.ts' PrimParams)
// against what is derived from it or checked by it: the conformance case table, the op and task codes
// and per-op loops generated for the wasm kernels (tools/prims.mjs, written by
// tools/build-wasm.mjs), the build's check that every AssemblyScript
// function dispatching on codes handles each of them, and the trap an unknown code hits at run time.
import { describe, it, expect } from 'vitest';
import { readFileSync, readdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { BINARY_PRIMS, UNARY_PRIMS } from '../../src/backends/backend.js';
import * as codes from '../../src/backends/wasm/codes.js';
import * as binaries from '../../src/backends/wasm/binaries.js';
import { checkDispatch, codeFamilies, primitiveNames, readPrimLists, renderAssemblyScript, renderOpLoops, renderTypeScript } from '../../tools/prims.mjs';
import { cases } from './cases.js';

const root = fileURLToPath(new URL('../..', import.meta.url));
const read = (rel: string) => readFileSync(`${root}/${rel}`, 'utf8');
const sources = readdirSync(`${root}/wasm/assembly`)
  .filter((f) => f.endsWith('.ts') && f !== 'codes.ts')
  .map((f) => ({ file: `wasm/assembly/${f}`, text: read(`wasm/assembly/${f}`) }));
const prims = readPrimLists(root);
const families = codeFamilies(prims);

describe('one list of primitives', () => {
  it('the conformance table has cases for exactly the primitives', () => {
    const prims = primitiveNames(root);
    expect(prims.length).toBeGreaterThan(30);
    expect(Object.keys(cases).sort()).toEqual([...prims].sort());
    for (const [p, list] of Object.entries(cases)) expect(list.length, `no conformance case for '${p}'`).toBeGreaterThan(0);
  });

  it('the generated codes are those of the current lists (run `node tools/build-wasm.mjs` after editing them)', () => {
    expect(read('src/backends/wasm/codes.ts')).toBe(renderTypeScript(families));
    expect(read('wasm/assembly/codes.ts')).toBe(renderAssemblyScript(families));
    expect(read('wasm/assembly/op-loops.ts')).toBe(renderOpLoops(prims));
    expect(Object.keys(codes.UNARY_CODE)).toEqual([...UNARY_PRIMS]);
    expect(Object.values(codes.UNARY_CODE)).toEqual(UNARY_PRIMS.map((_, i) => i));
    expect(Object.keys(codes.BINARY_CODE)).toEqual([...BINARY_PRIMS]);
    expect(Object.values(codes.BINARY_CODE)).toEqual(BINARY_PRIMS.map((_, i) => i));
  });

  it('every AssemblyScript function that dispatches on codes handles each and traps on any other', () => {
    expect(checkDispatch(sources, families)).toEqual([]);
  });

  it('the build names the file, function and op of a missing case', () => {
    const without = sources.map((s) => (s.file.endsWith('elementwise.ts') ? { ...s, text: s.text.replace(/\n\s*if \(op == Unary\.ABS\) return[^\n]*/, '') } : s));
    const errors = checkDispatch(without, families);
    expect(errors).toHaveLength(1);
    expect(errors[0]).toMatch(/^wasm\/assembly\/elementwise\.ts:\d+: unary4 dispatches on Unary codes but does not handle Unary\.ABS \('abs'\)/);
  });

  it('a new primitive in the catalogue gets its loop generated and is refused until its arithmetic is written', () => {
    const more = { ...prims, unary: [...prims.unary, 'log1p'] };
    const generated = renderOpLoops(more);
    expect(generated).toContain('else if (op == Unary.LOG1P) unaryLoop(Unary.LOG1P, x, out, n);');
    const withLoops = sources.map((s) => (s.file.endsWith('op-loops.ts') ? { ...s, text: generated } : s));
    const errors = checkDispatch(withLoops, codeFamilies(more));
    expect(errors.map((e) => e.replace(/:\d+:/, ':'))).toEqual([
      "wasm/assembly/elementwise.ts: unary4 dispatches on Unary codes but does not handle Unary.LOG1P ('log1p'): add it (a function that dispatches on Unary codes handles each of them)",
    ]);
    // The stale loops (before the build regenerates them) are refused too.
    expect(checkDispatch(sources, codeFamilies(more)).some((e) => e.includes('op-loops.ts') && e.includes('LOG1P'))).toBe(true);
  });

  it('comparisons get one-byte output loops', () => {
    expect(renderOpLoops(prims)).toContain('binLoop(Binary.LESS, true,');
    expect(renderOpLoops(prims)).toContain('binLoop(Binary.ADD, false,');
  });

  it('the build refuses dispatch that does not trap on an unknown code, or handles only some codes', () => {
    const edit = (file: string, f: (text: string) => string) => sources.map((s) => (s.file.endsWith(file) ? { ...s, text: f(s.text) } : s));
    const noTrap = checkDispatch(
      edit('reduce.ts', (t) => t.replace('unreachable(); return 0;', 'return 0;')),
      families,
    );
    expect(noTrap).toHaveLength(1);
    expect(noTrap[0]).toMatch(/^wasm\/assembly\/reduce\.ts:\d+: identity dispatches on Reduce codes but never traps/);
    const otherOp = checkDispatch(
      edit('tasks.ts', (t) => t.replace('default: unreachable();', 'unreachable(); default: gemmTask(ctrl, tid, nt);')),
      families,
    );
    expect(otherOp).toHaveLength(1);
    expect(otherOp[0]).toMatch(/^wasm\/assembly\/tasks\.ts:\d+: the switch in runTask must end in 'default: unreachable\(\)'/);
    const partial = checkDispatch(
      edit('tasks.ts', (t) => `${t}\nfunction isGemm(task: i32): bool { return task == Task.GEMM; }\n`),
      families,
    );
    expect(partial.length).toBe(families.find((f) => f.ns === 'Task')!.names.length);
    expect(partial[0]).toMatch(/^wasm\/assembly\/tasks\.ts:\d+: isGemm dispatches on Task codes but does not handle Task\.ADAM/);
    expect(partial.at(-1)).toMatch(/isGemm dispatches on Task codes but never traps/);
  });

  it('an unknown code traps in the kernels instead of running another op', () => {
    const bytes = Uint8Array.from(atob(binaries.simd), (c) => c.charCodeAt(0));
    const memory = new WebAssembly.Memory({ initial: 2, maximum: 16 });
    const k = new WebAssembly.Instance(new WebAssembly.Module(bytes), { env: { memory } }).exports as Record<string, (...args: number[]) => number>;
    const at = (k.heapBase() + 15) & ~15,
      x = at,
      out = at + 64,
      ctrl = at + 128;
    expect(() => k.unary_f32(UNARY_PRIMS.length, x, out, 4)).toThrow(/unreachable/);
    expect(() => k.binary_f32(BINARY_PRIMS.length, x, 1, 1, x, 1, 1, out, 1, 4)).toThrow(/unreachable/);
    expect(() => k.reduce_f32(2, x, out, 1, 4, 1)).toThrow(/unreachable/);
    expect(() => k.cast(0, 3, x, out, 4)).toThrow(/unreachable/);
    new Int32Array(memory.buffer, ctrl, 4).set([0, 0, 1, 99]); // one thread, task 99
    expect(() => k.runTask(ctrl, 0)).toThrow(/unreachable/);
    // The known codes still run.
    new Float32Array(memory.buffer, x, 4).set([1, -2, 3, -4]);
    k.unary_f32(codes.UNARY_CODE.abs, x, out, 4);
    expect([...new Float32Array(memory.buffer, out, 4)]).toEqual([1, 2, 3, 4]);
  });
});
