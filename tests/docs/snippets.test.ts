// Every fenced code block of README.md and docs/*.md runs as written (issue 15).
//
// - ```js / ```ts blocks run as ES modules written into a scratch folder inside the checkout
//   (tmp/, git-ignored), so `import ... from 'nabla'` resolves through the package's own `exports`
//   (self-reference), as in a user's project that depends on nabla; ts is transpiled first.
// - ```sh / ```bash blocks run in bash with `set -e -o pipefail`; ```console blocks run their
//   `$ ` lines. `npx nabla` is the built CLI (dist/cli/nabla.js, the package's `bin`): a real npx
//   first installs this package into its cache, which takes most of a minute.
// - The blocks of one file run in document order in one working directory, so a block may use what
//   an earlier one wrote (runs/shakespeare). README.md's run in a scratch directory standing in for
//   the repository root (data/ linked in), so the checkout's own runs/ is never touched; the docs/
//   files' run in the repository root (they write nothing there).
// - NABLA_SMOKE=1 shrinks every training recipe to seconds (src/train/smoke.ts).
// - A block not meant to run is tagged ```text (output), ```json and the like, or follows an
//   `<!-- not run: why -->` comment; an untagged block or an unknown language fails the test.
//   Blocks that use the webgpu backend get SwiftShader's environment where there is no GPU
//   (tools/swiftshader.mjs), and are skipped, with the reason, where no adapter loads.
// - A block fails the test when it exits non-zero or prints nothing on stdout.
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { chmodSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { pathToFileURL } from 'node:url';
import ts from 'typescript';

const root = process.cwd();
const execFileP = promisify(execFile);

type Kind = 'module' | 'shell' | 'skip' | 'bad';
interface Block {
  file: string;
  line: number;
  lang: string;
  code: string;
  kind: Kind;
  why: string;
  gpu: boolean;
}

const MODULE = new Set(['js', 'javascript', 'mjs', 'ts', 'typescript']);
const SHELL = new Set(['sh', 'bash', 'shell', 'console']);
const DATA = new Set(['text', 'txt', 'plain', 'output', 'json', 'jsonl', 'yaml', 'csv', 'diff']);
/** Blocks that need the webgpu backend. */
const GPU = /setBackend\(\s*['"]webgpu['"]|--backend[ =]webgpu/;

/** The fenced code blocks of a markdown file, with the line of each opening fence (1-based). */
function fencedBlocks(file: string, markdown: string): Block[] {
  const lines = markdown.split('\n');
  const blocks: Block[] = [];
  for (let i = 0; i < lines.length; i++) {
    const open = /^( {0,3})(`{3,}|~{3,})\s*([^`\s]*)[^`]*$/.exec(lines[i]);
    if (!open) continue;
    const [, indent, fence, info] = open;
    const body: string[] = [];
    let j = i + 1;
    const close = new RegExp(`^ {0,3}${fence[0] === '`' ? '`' : '~'}{${fence.length},}\\s*$`);
    for (; j < lines.length && !close.test(lines[j]); j++) body.push(lines[j].startsWith(indent) ? lines[j].slice(indent.length) : lines[j].trimStart());
    // An `<!-- not run: why -->` comment on the lines before the fence (blank lines allowed).
    let k = i - 1;
    while (k >= 0 && lines[k].trim() === '') k--;
    const marker = k >= 0 ? /^\s*<!--\s*not run:?\s*(.*?)\s*-->\s*$/.exec(lines[k]) : null;
    const lang = info.toLowerCase();
    const code = body.join('\n');
    let kind: Kind,
      why = '';
    if (marker) [kind, why] = marker[1] ? ['skip', marker[1]] : ['bad', 'a <!-- not run --> comment must say why'];
    else if (MODULE.has(lang) || SHELL.has(lang)) kind = MODULE.has(lang) ? 'module' : 'shell';
    else if (DATA.has(lang)) [kind, why] = ['skip', `\`\`\`${lang}: not a program`];
    else [kind, why] = ['bad', lang ? `unknown language \`\`\`${lang}: tag it, or add <!-- not run: why -->` : 'no language: tag it (```text for output), or add <!-- not run: why -->'];
    blocks.push({ file, line: i + 1, lang, code, kind, why, gpu: GPU.test(code) });
    i = j;
  }
  return blocks;
}

const files = [
  'README.md',
  ...readdirSync(join(root, 'docs'))
    .filter((f) => f.endsWith('.md'))
    .sort()
    .map((f) => `docs/${f}`),
];
const perFile = files.map((f) => ({ file: f, blocks: fencedBlocks(f, readFileSync(join(root, f), 'utf8')) }));

// The scratch folder: snippet modules, the npx shim, README's working directory.
mkdirSync(join(root, 'tmp'), { recursive: true });
const scratch = mkdtempSync(join(root, 'tmp', 'docs-snippets-'));
const shims = join(scratch, 'bin');
const env: NodeJS.ProcessEnv = {
  ...process.env,
  NABLA_SMOKE: '1',
  PATH: [shims, dirname(process.execPath), process.env.PATH].join(':'),
};
let gpuEnv: NodeJS.ProcessEnv | { reason: string } | null = null;
const ran: string[] = [],
  skipped: string[] = [];
const started = performance.now();

beforeAll(() => {
  mkdirSync(shims);
  const bin = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')).bin.nabla as string;
  writeFileSync(
    join(shims, 'npx'),
    [
      '#!/bin/sh',
      `if [ "$1" = nabla ]; then shift; exec '${process.execPath}' '${join(root, bin)}' "$@"; fi`,
      "echo \"docs snippets: only 'npx nabla' is provided here, not 'npx $*'\" >&2; exit 127",
      '',
    ].join('\n'),
  );
  chmodSync(join(shims, 'npx'), 0o755);
});

afterAll(() => {
  rmSync(scratch, { recursive: true, force: true });
  const s = ((performance.now() - started) / 1000).toFixed(1);
  const none = perFile.filter((f) => f.blocks.length === 0).map((f) => f.file);
  console.log(
    `docs snippets: ${ran.length} run, ${skipped.length} skipped, ${s} s${none.length ? ` (no fenced blocks: ${none.join(', ')})` : ''}\n  run:\n    ${ran.join('\n    ')}\n  skipped:\n    ${skipped.join('\n    ')}`,
  );
});

/** The environment for blocks that use webgpu: this machine's GPU, else SwiftShader, else a reason to skip. */
async function webgpuEnv(): Promise<NodeJS.ProcessEnv | { reason: string }> {
  let e: NodeJS.ProcessEnv = env;
  if (process.env.NABLA_WEBGPU_DRIVER !== 'system' && !process.env.VK_ICD_FILENAMES) {
    try {
      const { stdout } = await execFileP(process.execPath, [join(root, 'tools/swiftshader.mjs')], { cwd: root });
      e = { ...env, ...Object.fromEntries([...stdout.matchAll(/^export (\w+)=(.*)$/gm)].map((m) => [m[1], m[2]])) };
    } catch (err) {
      return { reason: `no SwiftShader: ${(err as { stderr?: string }).stderr?.trim() || String(err)}` };
    }
  }
  const { stdout } = await execFileP(process.execPath, [join(root, 'dist/cli/nabla.js'), 'info', '--json'], { cwd: root, env: e });
  const webgpu = JSON.parse(stdout).backends.webgpu as { unavailable?: string };
  return webgpu.unavailable ? { reason: webgpu.unavailable } : e;
}

async function run(cmd: string, args: string[], cwd: string, e: NodeJS.ProcessEnv): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const r = await execFileP(cmd, args, { cwd, env: e, maxBuffer: 1 << 26 });
    return { code: 0, stdout: r.stdout, stderr: r.stderr };
  } catch (err) {
    const x = err as { code?: number; stdout?: string; stderr?: string; message: string };
    return { code: typeof x.code === 'number' ? x.code : 1, stdout: x.stdout ?? '', stderr: x.stderr ?? x.message };
  }
}

const tail = (s: string, n = 3000): string => (s.length > n ? `…${s.slice(-n)}` : s);

it('snippets import nabla through the package self-reference, not node_modules', async () => {
  // With --preserve-symlinks a node_modules/nabla link would resolve inside node_modules; the
  // self-reference resolves to the checkout's own dist/.
  writeFileSync(join(scratch, 'resolve.mjs'), "console.log(import.meta.resolve('nabla'));\n");
  const r = await run(process.execPath, ['--preserve-symlinks', join(scratch, 'resolve.mjs')], scratch, env);
  expect(r.stderr).toBe('');
  expect(r.stdout.trim()).toBe(pathToFileURL(join(root, 'dist/src/index.js')).href);
});

it('NABLA_SMOKE=1 shrinks a recipe (3 epochs asked, 1 run) and says so on stderr', async () => {
  const r = await run(process.execPath, [join(root, 'dist/cli/nabla.js'), 'train', 'mnist', '--json', '--epochs', '3', '--limit', '600'], scratch, env);
  expect(r.code, r.stderr).toBe(0);
  const epochs = r.stdout.split('\n').filter((l) => l.includes('"event":"epoch"'));
  expect(epochs).toHaveLength(1);
  expect(r.stderr).toMatch(/NABLA_SMOKE is set: train mnist .*epochs ≤ 1/);
  expect(JSON.parse(r.stdout.trim().split('\n').at(-1)!).event).toBe('end');
});

for (const { file, blocks } of perFile.filter((f) => f.blocks.length > 0)) {
  describe.sequential(file, () => {
    // README.md's commands run from the repository root after `npm install`; a scratch directory
    // with the root's data/ stands in for it, so they write runs/ there and not in the checkout.
    let cwd = root;
    beforeAll(() => {
      if (file !== 'README.md') return;
      cwd = join(scratch, 'README');
      mkdirSync(cwd);
      symlinkSync(join(root, 'data'), join(cwd, 'data'));
    });

    for (const b of blocks) {
      const first =
        b.code
          .split('\n')
          .find((l) => l.trim() && !l.trim().startsWith('//') && !l.trim().startsWith('#'))
          ?.trim() ?? '';
      const where = `${b.file}:${b.line}`;
      const title = `${where} ${first.length > 90 ? `${first.slice(0, 90)}…` : first}`;
      if (b.kind === 'bad') {
        it(`${where} is tagged`, () => {
          throw new Error(`${where}: ${b.why}`);
        });
        continue;
      }
      if (b.kind === 'skip') {
        skipped.push(`${where} (${b.why})`);
        it.skip(`${title} (not run: ${b.why})`, () => {});
        continue;
      }
      it(title, async (ctx) => {
        let e = env;
        if (b.gpu) {
          gpuEnv ??= await webgpuEnv();
          if ('reason' in gpuEnv) {
            skipped.push(`${where} (webgpu unavailable: ${String(gpuEnv.reason)})`);
            ctx.skip();
            return;
          }
          e = gpuEnv;
        }
        const t0 = performance.now();
        const base = join(scratch, `${b.file.replace(/[^\w]+/g, '-')}-L${b.line}`);
        let r: { code: number; stdout: string; stderr: string };
        if (b.kind === 'module') {
          const js = b.lang.startsWith('t') ? ts.transpileModule(b.code, { compilerOptions: { module: ts.ModuleKind.ESNext, target: ts.ScriptTarget.ES2022 } }).outputText : b.code;
          writeFileSync(`${base}.mjs`, js);
          r = await run(process.execPath, [`${base}.mjs`], cwd, e);
        } else {
          const script =
            b.lang === 'console'
              ? b.code
                  .split('\n')
                  .filter((l) => l.startsWith('$ '))
                  .map((l) => l.slice(2))
                  .join('\n')
              : b.code;
          writeFileSync(`${base}.sh`, `set -e -o pipefail\n${script}\n`);
          r = await run('bash', [`${base}.sh`], cwd, e);
        }
        ran.push(`${title} (${((performance.now() - t0) / 1000).toFixed(1)} s)`);
        if (r.code !== 0) throw new Error(`${where} exited with ${r.code}\n--- stdout ---\n${tail(r.stdout)}\n--- stderr ---\n${tail(r.stderr)}`);
        expect(r.stdout.trim(), `${where} prints nothing`).not.toBe('');
      }, 600_000); // minutes on a busy 2-core machine; about 20 s alone for the longest block
    }
  });
}
