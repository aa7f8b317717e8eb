// Public exports without a doc comment: every symbol reachable from src/index.ts (namespaces such as
// `nn` and `io` included, recursively) whose declaration has no /** ... */ comment. With
// `{ members: true }`, also the public members classes declare themselves (not overrides: those are
// documented where first declared). tests/docs/api-docs.test.ts requires none; run it directly to
// list them:  node tools/undocumented.mjs [--members]
import ts from 'typescript';
import { fileURLToPath } from 'node:url';
import { dirname, join, relative } from 'node:path';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');

/**
 * [{ name, file, line }] of the public API's undocumented declarations.
 * @param {{ members?: boolean }} opts
 * @returns {{ name: string; file: string; line: number }[]}
 */
export function undocumented(opts = {}) {
  const config = ts.getParsedCommandLineOfConfigFile(join(root, 'tsconfig.json'), {}, { ...ts.sys, onUnRecoverableConfigFileDiagnostic: () => {} });
  if (!config) throw new Error('tools/undocumented: cannot read tsconfig.json');
  const program = ts.createProgram([join(root, 'src/index.ts')], config.options);
  const checker = program.getTypeChecker();
  const entry = checker.getSymbolAtLocation(/** @type {ts.SourceFile} */ (program.getSourceFile(join(root, 'src/index.ts'))));
  if (!entry) throw new Error('tools/undocumented: src/index.ts exports nothing');
  /** @type {Set<ts.Symbol>} */
  const seen = new Set();
  /** @type {{ name: string; file: string; line: number }[]} */
  const out = [];
  /** @param {ts.Node} decl */
  const hasDoc = (decl) => ts.getJSDocCommentsAndTags(decl).length > 0 || (ts.isVariableDeclaration(decl) && ts.getJSDocCommentsAndTags(decl.parent.parent).length > 0);
  /** @param {string} name @param {ts.Declaration} decl */
  const report = (name, decl) => {
    const sf = decl.getSourceFile();
    out.push({ name, file: relative(root, sf.fileName), line: sf.getLineAndCharacterOfPosition(decl.getStart()).line + 1 });
  };
  /** @param {ts.Symbol} symbol @param {string} prefix */
  const visit = (symbol, prefix) => {
    const target = symbol.flags & ts.SymbolFlags.Alias ? checker.getAliasedSymbol(symbol) : symbol;
    if (seen.has(target)) return;
    seen.add(target);
    const decls = target.declarations ?? [];
    if (decls.length === 0) return;
    const name = prefix + symbol.name;
    if (target.flags & ts.SymbolFlags.ValueModule && decls.some((d) => ts.isSourceFile(d))) {
      // `export * as nn from './nn/index.js'`: a namespace of its own exports
      for (const s of checker.getExportsOfModule(target)) visit(s, `${name}.`);
      return;
    }
    if (!decls.some(hasDoc)) report(name, decls[0]);
    if (opts.members && target.flags & ts.SymbolFlags.Class) {
      for (const d of decls) {
        if (!ts.isClassDeclaration(d)) continue;
        for (const m of d.members) {
          const mods = ts.getCombinedModifierFlags(m);
          if (mods & (ts.ModifierFlags.Private | ts.ModifierFlags.Protected) || !m.name || ts.isPrivateIdentifier(m.name)) continue;
          if (mods & ts.ModifierFlags.Override) continue; // documented where it is first declared
          if (ts.isIndexSignatureDeclaration(m) || ts.isClassStaticBlockDeclaration(m) || ts.isSemicolonClassElement(m)) continue;
          if (ts.isConstructorDeclaration(m)) continue; // the class comment says how to make one
          const mName = m.name.getText();
          if (mName.startsWith('_')) continue;
          if (!hasDoc(m)) report(`${name}.${mName}`, m);
        }
      }
    }
  };
  for (const s of checker.getExportsOfModule(entry)) visit(s, '');
  return out;
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const list = undocumented({ members: process.argv.includes('--members') });
  for (const u of list) console.log(`${u.file}:${u.line}\t${u.name}`);
  console.log(`${list.length} public declarations without a doc comment`);
}
