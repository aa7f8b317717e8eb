// The op and task codes that the wasm backend (TypeScript) passes to its AssemblyScript kernels, from
// one list: the primitive catalogue of src/backends/backend.ts (UNARY_PRIMS, BINARY_PRIMS) plus the
// kernel-side lists below. tools/build-wasm.mjs writes them to src/backends/wasm/codes.ts and
// wasm/assembly/codes.ts (both generated, not committed) and, before compiling, checks with
// checkDispatch that every AssemblyScript function dispatching on a family's codes handles each of
// them and traps on any other, so a missing kernel case fails the build instead of running another
// op. tests/backends/prims.test.ts and the gradcheck suite use the same functions.

import ts from 'typescript';
import { readFileSync } from 'node:fs';
import path from 'node:path';

/**
 * One list of codes: its members are numbered from 0 in list order.
 * @typedef {object} Family
 * @property {string} ns       the AssemblyScript namespace of its constants (`Unary.NEG`)
 * @property {string} ts       the TypeScript name of its code table (or the prefix of its constants, for tasks)
 * @property {string} type     the TypeScript type of that table
 * @property {string} doc      what the codes select
 * @property {string[]} names  the members, in code order
 * @property {string[]} [docs] one line per member (tasks)
 */

/** The kernel-side lists: reductions and dtypes with an AssemblyScript kernel, and the thread pool's tasks. */
const REDUCE = ['sum', 'max'];
const DTYPES = ['float32', 'int32', 'bool'];
/** Parallel tasks (wasm/assembly/tasks.ts `runTask`), each with the line that documents it. */
const TASKS = [
  ['gemm', 'Batched GEMM, in units of whole matrices or blocks of rows/columns (wasm/assembly/matmul.ts).'],
  ['adam', 'One fused Adam step, a contiguous chunk per thread (wasm/assembly/optim.ts).'],
  ['gemv', 'Few-row products (M ≤ 4) that read B in place (wasm/assembly/gemv.ts).'],
  ['attention', 'Fused attention, a unit per batch matrix (wasm/assembly/attention.ts).'],
  ['attentionBackward', 'Its backward, a unit per batch matrix.'],
  ['gelu', 'GELU forward or backward, a contiguous chunk per thread (wasm/assembly/fused.ts).'],
  ['binary', 'An elementwise binary op, a block of rows (or of columns) per thread (wasm/assembly/elementwise.ts).'],
];
/** The task code that tells workers to leave their loop (wasm/assembly/threads.ts); no switch dispatches it. */
const TASK_EXIT = -1;

/** `attentionBackward` → `ATTENTION_BACKWARD`. */
export const constName = (/** @type {string} */ name) => name.replace(/([a-z0-9])([A-Z])/g, '$1_$2').toUpperCase();

/**
 * The string elements of the array literal `const <name> = [...]` (through `as const` or `satisfies`).
 * @param {ts.SourceFile} file
 * @param {string} name
 * @returns {string[]}
 */
function stringArray(file, name) {
  /** @type {string[] | null} */
  let found = null;
  /** @param {ts.Node} node */
  const visit = (node) => {
    if (ts.isVariableDeclaration(node) && ts.isIdentifier(node.name) && node.name.text === name && node.initializer) {
      let init = node.initializer;
      while (ts.isAsExpression(init) || ts.isSatisfiesExpression(init) || ts.isParenthesizedExpression(init)) init = init.expression;
      if (ts.isArrayLiteralExpression(init) && init.elements.every(ts.isStringLiteral)) {
        found = init.elements.map((e) => /** @type {ts.StringLiteral} */ (e).text);
      }
    }
    if (!found) ts.forEachChild(node, visit);
  };
  visit(file);
  if (!found) throw new Error(`${file.fileName}: no array literal of strings named ${name}`);
  return found;
}

/**
 * The property names of the object literal `const <name> = {...}` (through `as const` or `satisfies`), in order.
 * @param {ts.SourceFile} file
 * @param {string} name
 * @returns {string[]}
 */
function objectKeys(file, name) {
  /** @type {string[] | null} */
  let found = null;
  /** @param {ts.Node} node */
  const visit = (node) => {
    if (ts.isVariableDeclaration(node) && ts.isIdentifier(node.name) && node.name.text === name && node.initializer) {
      let init = node.initializer;
      while (ts.isAsExpression(init) || ts.isSatisfiesExpression(init) || ts.isParenthesizedExpression(init)) init = init.expression;
      if (ts.isObjectLiteralExpression(init)) {
        found = init.properties.map((p) => {
          if (!p.name || !(ts.isIdentifier(p.name) || ts.isStringLiteral(p.name))) throw new Error(`${file.fileName}: ${name} has a member without a plain name`);
          return p.name.text;
        });
      }
    }
    if (!found) ts.forEachChild(node, visit);
  };
  visit(file);
  if (!found) throw new Error(`${file.fileName}: no object literal named ${name}`);
  return found;
}

/**
 * The elementwise primitives of the catalogue (src/backends/primitives.ts), in order, and which
 * binary ones are comparisons.
 * @param {string} root the repository root
 * @returns {{ unary: string[], binary: string[], comparisons: string[] }}
 */
export function readPrimLists(root) {
  const file = path.join(root, 'src', 'backends', 'primitives.ts');
  const source = ts.createSourceFile(file, readFileSync(file, 'utf8'), ts.ScriptTarget.Latest, true);
  return { unary: objectKeys(source, 'UNARY_REFERENCE'), binary: objectKeys(source, 'BINARY_REFERENCE'), comparisons: stringArray(source, 'COMPARISONS') };
}

/**
 * Every primitive's name: the members of `PrimParams`, own and inherited, as the type checker sees them.
 * @param {string} root the repository root
 * @returns {string[]}
 */
export function primitiveNames(root) {
  const file = path.join(root, 'src', 'backends', 'backend.ts');
  const program = ts.createProgram([file], {
    noEmit: true,
    skipLibCheck: true,
    target: ts.ScriptTarget.ES2022,
    module: ts.ModuleKind.NodeNext,
    moduleResolution: ts.ModuleResolutionKind.NodeNext,
    lib: ['lib.es5.d.ts'],
    types: [],
  });
  const checker = program.getTypeChecker();
  const source = /** @type {ts.SourceFile} */ (program.getSourceFile(file));
  const decl = source.statements.find((s) => ts.isInterfaceDeclaration(s) && s.name.text === 'PrimParams');
  if (!decl) throw new Error(`${file}: no interface PrimParams`);
  const type = checker.getTypeAtLocation(/** @type {ts.InterfaceDeclaration} */ (decl).name);
  return checker.getPropertiesOfType(type).map((p) => p.name);
}

/**
 * All code families.
 * @param {{ unary: string[], binary: string[] }} prims the catalogue's lists (readPrimLists)
 * @returns {Family[]}
 */
export function codeFamilies(prims) {
  return [
    { ns: 'Unary', ts: 'UNARY_CODE', type: 'Record<UnaryPrim, number>', doc: 'The op code of each unary primitive (unary_f32).', names: prims.unary },
    {
      ns: 'Binary',
      ts: 'BINARY_CODE',
      type: 'Record<BinaryPrim, number>',
      doc: 'The op code of each binary primitive (binary_f32; comparisons write one byte per element).',
      names: prims.binary,
    },
    {
      ns: 'Reduce',
      ts: 'REDUCE_CODE',
      type: `Record<${REDUCE.map((r) => `'${r}'`).join(' | ')}, number>`,
      doc: 'The reductions with a kernel (reduce_f32); argmax runs the js kernel.',
      names: REDUCE,
    },
    { ns: 'DType', ts: 'DTYPE_CODE', type: 'Partial<Record<DType, number>>', doc: 'The element types the cast kernel converts between; others run the js kernel.', names: DTYPES },
    { ns: 'Task', ts: 'TASK', type: 'number', doc: 'Parallel tasks of the thread pool (runTask).', names: TASKS.map(([n]) => n), docs: TASKS.map(([, d]) => d) },
  ];
}

const HEADER = 'Generated by tools/build-wasm.mjs from the primitive catalogue (src/backends/primitives.ts) and the lists in tools/prims.mjs: do not edit.';

/**
 * The AssemblyScript entry points of the elementwise kernels (wasm/assembly/op-loops.ts): one loop
 * per primitive, each with its op inlined (unary4/binary4 in elementwise.ts give the arithmetic),
 * chosen by an if-chain that traps on an unknown code. Dispatch is by if-chains: with a switch ending
 * in `default: unreachable()`, -O3 merged the per-op loops back into one that tests the op on every
 * vector.
 * @param {{ unary: string[], binary: string[], comparisons: string[] }} prims the catalogue (readPrimLists)
 */
export function renderOpLoops(prims) {
  const chain = (/** @type {string[]} */ calls) => calls.map((c, i) => `  ${i ? 'else ' : ''}if ${c}`).concat('  else unreachable();');
  return [
    `// ${HEADER}`,
    "import { Unary, Binary } from './codes';",
    "import { unaryLoop, binLoop } from './elementwise';",
    '',
    '/** out[i] = op(x[i]) for contiguous x. */',
    'export function unary_f32(op: i32, x: usize, out: usize, n: i32): void {',
    ...chain(prims.unary.map((n) => `(op == Unary.${constName(n)}) unaryLoop(Unary.${constName(n)}, x, out, n);`)),
    '}',
    '',
    '/**',
    ' * out[o, i] = op(a[o, i], b[o, i]) over two-level operands (elementwise.ts): float32, or for a',
    ' * comparison bool, one byte per element.',
    ' */',
    'export function binary_f32(op: i32, a: usize, aO: i32, aI: i32, b: usize, bO: i32, bI: i32, out: usize, outer: i32, inner: i32): void {',
    ...chain(prims.binary.map((n) => `(op == Binary.${constName(n)}) binLoop(Binary.${constName(n)}, ${prims.comparisons.includes(n)}, a, aO, aI, b, bO, bI, out, outer, inner);`)),
    '}',
    '',
  ].join('\n');
}

/**
 * The AssemblyScript module of the codes (wasm/assembly/codes.ts): a namespace of constants per
 * family, `@inline` so that the compiler sees their values: an inlined per-op helper called with a
 * constant code then folds to that op (without it, -O3 merged the per-op loops into one with the
 * dispatch inside, 2-3× slower for cheap ops).
 */
export function renderAssemblyScript(/** @type {Family[]} */ families) {
  const lines = [`// ${HEADER}`, '// The op and task codes the kernels switch on; the host passes the same numbers (src/backends/wasm/codes.ts).', ''];
  for (const f of families) {
    lines.push(`/** ${f.doc} */`, `export namespace ${f.ns} {`);
    f.names.forEach((n, i) => lines.push('  // @ts-ignore: decorator', `  @inline export const ${constName(n)}: i32 = ${i};`));
    if (f.ns === 'Task')
      lines.push('  /** Workers leave their loop (threads.ts); runTask never sees it. */', '  // @ts-ignore: decorator', `  @inline export const EXIT: i32 = ${TASK_EXIT};`);
    lines.push('}', '');
  }
  return lines.join('\n');
}

/** The TypeScript module of the codes (src/backends/wasm/codes.ts): a table per family, tasks as constants. */
export function renderTypeScript(/** @type {Family[]} */ families) {
  const lines = [
    `// ${HEADER}`,
    '// The op and task codes the wasm backend passes to its kernels (the same numbers as wasm/assembly/codes.ts).',
    '',
    "import type { BinaryPrim, UnaryPrim } from '../backend.js';",
    "import type { DType } from '../../tensor/dtype.js';",
    '',
  ];
  for (const f of families) {
    if (f.ns === 'Task') {
      f.names.forEach((n, i) => lines.push(`/** ${f.docs?.[i]} */`, `export const TASK_${constName(n)} = ${i};`));
      lines.push('/** Workers leave their loop (wasm/assembly/threads.ts). */', `export const TASK_EXIT = ${TASK_EXIT};`, '');
      continue;
    }
    lines.push(`/** ${f.doc} */`, `export const ${f.ts}: ${f.type} = { ${f.names.map((n, i) => `${n}: ${i}`).join(', ')} };`, '');
  }
  return lines.join('\n');
}

/** `text` with comments blanked (same length, so offsets and line numbers hold). */
function stripComments(/** @type {string} */ text) {
  return text.replace(/\/\*[\s\S]*?\*\/|\/\/[^\n]*/g, (m) => m.replace(/[^\n]/g, ' '));
}

/** The offset just past the brace that closes the one at `open`. */
function closing(/** @type {string} */ text, /** @type {number} */ open) {
  let depth = 0,
    i = open;
  do {
    if (text[i] === '{') depth++;
    else if (text[i] === '}') depth--;
    i++;
  } while (depth > 0 && i < text.length);
  return i;
}

/**
 * Check the AssemblyScript sources against the codes. A function dispatches on a family when it
 * has a `case` label for one of its codes or compares one with == or != (an if-chain, which an
 * inlined function with a constant op folds away where a switch would stay a br_table). Every such
 * function must name every code of the family and trap on any other: a switch over the codes ends
 * in `default: unreachable()`, an if-chain in `unreachable()`. Every family has a dispatcher.
 * @param {{ file: string, text: string }[]} sources file names (as they should appear in messages) and texts
 * @param {Family[]} families
 * @returns {string[]} one message per problem, naming the file, line, function and op
 */
export function checkDispatch(sources, families) {
  const byNs = new Map(families.map((f) => [f.ns, f]));
  const nsAlt = families.map((f) => f.ns).join('|');
  const dispatchRe = new RegExp(`\\bcase\\s+(${nsAlt})\\.(\\w+)\\s*:|(?:==|!=)\\s*(${nsAlt})\\.(\\w+)|\\b(${nsAlt})\\.(\\w+)\\s*(?:==|!=)`, 'g');
  /** @type {string[]} */
  const errors = [];
  const dispatched = new Set();
  for (const { file, text: raw } of sources) {
    const text = stripComments(raw);
    const lineOf = (/** @type {number} */ at) => text.slice(0, at).split('\n').length;
    for (const fn of text.matchAll(/\bfunction\s+(\w+)\s*(?:<[^>]*>)?\s*\(/g)) {
      const open = text.indexOf('{', fn.index + fn[0].length);
      const body = text.slice(open, closing(text, open));
      const where = `${file}:${lineOf(fn.index)}: ${fn[1]}`;
      /** @type {Map<string, Set<string>>} */
      const named = new Map();
      for (const m of body.matchAll(dispatchRe)) {
        const ns = m[1] ?? m[3] ?? m[5],
          member = m[2] ?? m[4] ?? m[6];
        if (ns === 'Task' && member === 'EXIT') continue; // a signal to the worker loop, not a task to dispatch
        if (!named.has(ns)) named.set(ns, new Set());
        named.get(ns)?.add(member);
      }
      for (const [ns, have] of named) {
        const fam = /** @type {Family} */ (byNs.get(ns));
        dispatched.add(ns);
        for (const n of fam.names) {
          if (!have.has(constName(n)))
            errors.push(
              `${where} dispatches on ${ns} codes but does not handle ${ns}.${constName(n)} ('${n}'): add it (a function that dispatches on ${ns} codes handles each of them)`,
            );
        }
        for (const c of have) if (!fam.names.some((n) => constName(n) === c)) errors.push(`${where} names ${ns}.${c}, which is not a code`);
        if (!/\bunreachable\(\)/.test(body))
          errors.push(`${where} dispatches on ${ns} codes but never traps: end it in unreachable() (an unknown code must trap, never run another op)`);
      }
      // A switch over codes ends in `default: unreachable()`, not in another op.
      for (const sw of body.matchAll(/\bswitch\s*\([^{]*\{/g)) {
        const swOpen = sw.index + sw[0].length - 1;
        const swBody = body.slice(swOpen, closing(body, swOpen));
        if (!new RegExp(`\\bcase\\s+(${nsAlt})\\.`).test(swBody)) continue;
        const def = swBody.match(/\bdefault\s*:\s*(\{\s*)?(\w+)/);
        if (def?.[2] !== 'unreachable')
          errors.push(`${file}:${lineOf(open + sw.index)}: the switch in ${fn[1]} must end in 'default: unreachable()' (an unknown code traps, never runs another op)`);
      }
    }
  }
  for (const f of families) if (!dispatched.has(f.ns)) errors.push(`wasm/assembly: no function dispatches on ${f.ns} codes`);
  return errors;
}
