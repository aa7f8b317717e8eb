// `nabla serve DIR` as a user runs it: it prints the URL when the model is ready, answers the
// OpenAI API, and exits 0 on SIGTERM; a directory it cannot serve is refused with why.
import { describe, it, expect, beforeAll } from 'vitest';
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { once } from 'node:events';
import { bin, nabla } from '../helpers/cli.js';
import { tempDir } from '../helpers/tmp.js';
import { tinyModelDir } from '../serve/helpers.js';

describe('nabla serve', () => {
  let dir = '';
  beforeAll(async () => {
    if (!existsSync(bin)) throw new Error(`${bin} is missing: run npm run build (npm test does)`);
    dir = await tinyModelDir();
  });

  it('prints the URL when ready, serves completions with the API key, and exits 0 on SIGTERM', async () => {
    const data = join(await tempDir('nabla-serve-cli-'), 'conversations');
    const child = spawn(process.execPath, [bin, 'serve', dir, '--port', '0', '--threads', '1', '--name', 'tiny', '--parallel', '2', '--data', data], {
      env: { ...process.env, NABLA_API_KEY: 'k3y' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stderr.on('data', (d) => {
      stderr += d;
    });
    const exited = once(child, 'exit');
    try {
      const url = await new Promise<string>((resolve, reject) => {
        child.stdout.on('data', (d) => {
          stdout += d;
          const m = /ready at (http:\/\/127\.0\.0\.1:\d+)\/v1/.exec(stdout);
          if (m) resolve(m[1]);
        });
        child.on('exit', (code) => reject(new Error(`nabla serve exited with ${code} before it was ready: ${stderr}`)));
      });
      expect(stdout.trim().split('\n')).toHaveLength(1); // one line, with the URL
      expect(stdout).toContain(`chat page at ${url}/, conversations stored in ${data} (embedded PGlite)`);
      expect((await fetch(`${url}/`)).status).toBe(200);
      expect(stderr).toMatch(/loading .*\/health answers 503 until it is ready/);
      expect((await fetch(`${url}/health`)).status).toBe(200);
      expect((await fetch(`${url}/v1/models`)).status).toBe(401);
      const r = await fetch(`${url}/v1/completions`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: 'Bearer k3y' },
        body: JSON.stringify({ model: 'tiny', prompt: 'Hello', max_tokens: 5, temperature: 0 }),
      });
      expect(r.status).toBe(200);
      const body = (await r.json()) as { usage: { completion_tokens: number } };
      expect(body.usage.completion_tokens).toBe(5);
      child.kill('SIGTERM');
      const [code, signal] = await exited;
      expect({ code, signal }).toEqual({ code: 0, signal: null });
      expect(stderr).toMatch(/SIGTERM: finishing the running requests/);
    } finally {
      if (child.exitCode === null) child.kill('SIGKILL');
    }
  });

  it('refuses a directory it cannot serve, saying why', async () => {
    const empty = await tempDir('nabla-serve-cli-');
    const r = await nabla('serve', join(empty, 'nothing-here'), '--port', '0', '--no-store');
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/nabla: fromPretrained: cannot read .*config\.json/);
    const bad = await nabla('serve', dir, '--port', '70000');
    expect(bad.code).not.toBe(0);
    expect(bad.stderr).toMatch(/--port must be at most 65535/);
    const both = await nabla('serve', dir, '--data', join(empty, 'd'), '--db', 'postgres://127.0.0.1/x');
    expect(both.code).toBe(1);
    expect(both.stderr).toMatch(/give --data DIR .* or --db URL .*, not both/);
  });
});
