// Run the built `nabla` command as a user does; the exit code and both streams come back.
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { join } from 'node:path';

const run = promisify(execFile);
export const bin = join(process.cwd(), 'dist/cli/nabla.js');

type Result = { code: number; stdout: string; stderr: string };

async function runWith(env: NodeJS.ProcessEnv | undefined, args: string[]): Promise<Result> {
  try {
    const r = await run(process.execPath, [bin, ...args], { maxBuffer: 1 << 24, env });
    return { code: 0, stdout: r.stdout, stderr: r.stderr };
  } catch (e) {
    const err = e as { code: number; stdout: string; stderr: string };
    return { code: err.code, stdout: err.stdout, stderr: err.stderr };
  }
}

/** Runs `nabla ...args`; `nabla.withEnv(env)(...args)` runs it with another environment. */
export const nabla = Object.assign((...args: string[]): Promise<Result> => runWith(undefined, args), {
  withEnv:
    (env: NodeJS.ProcessEnv) =>
    (...args: string[]): Promise<Result> =>
      runWith(env, args),
});
