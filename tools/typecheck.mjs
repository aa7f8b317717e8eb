// Type-checks what tsconfig.check.json covers: the tests, and the JavaScript of examples/, bench/
// and tools/ (checkJs, JSDoc types), with noUnusedLocals and noUnusedParameters on. The library
// files they import (src/, cli/) are checked under their own tsconfig.json by `tsc -p
// tsconfig.json` (npm run build), so their diagnostics are not repeated here. Prints them as tsc
// does; exits 1 when there are any.
//   node tools/typecheck.mjs   (npm run typecheck builds first: bench/ imports dist/)
import ts from 'typescript';
import { fileURLToPath } from 'node:url';
import { dirname, join, relative } from 'node:path';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const started = performance.now();

/** @type {ts.FormatDiagnosticsHost} */
const host = { getCanonicalFileName: (f) => f, getCurrentDirectory: () => root, getNewLine: () => '\n' };
/** @param {readonly ts.Diagnostic[]} ds */
const print = (ds) => process.stdout.write(process.stdout.isTTY ? ts.formatDiagnosticsWithColorAndContext(ds, host) : ts.formatDiagnostics(ds, host));

const config = ts.getParsedCommandLineOfConfigFile(join(root, 'tsconfig.check.json'), {}, { ...ts.sys, onUnRecoverableConfigFileDiagnostic: (d) => print([d]) });
if (!config) process.exit(1);
const program = ts.createProgram({ rootNames: config.fileNames, options: config.options });
/** A file checked here: not the library's, not a dependency's. */
const ours = (/** @type {ts.SourceFile} */ sf) =>
  !/^(src|cli)\//.test(relative(root, sf.fileName)) && !program.isSourceFileFromExternalLibrary(sf) && !sf.fileName.includes('/node_modules/');
const files = program.getSourceFiles().filter(ours);
const diagnostics = [...config.errors, ...program.getOptionsDiagnostics(), ...program.getGlobalDiagnostics()];
for (const sf of files) diagnostics.push(...program.getSyntacticDiagnostics(sf), ...program.getSemanticDiagnostics(sf));
print(diagnostics);
const seconds = ((performance.now() - started) / 1000).toFixed(1);
console.log(`typecheck: ${files.length} files (tests, examples, bench, tools), ${diagnostics.length} errors, ${seconds} s`);
process.exit(diagnostics.length ? 1 : 0);
