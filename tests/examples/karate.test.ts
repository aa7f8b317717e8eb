// The karate-club GCN example runs as a user runs it (node examples/karate-gcn.js, importing 'nabla').
import { describe, it, expect } from 'vitest';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { join } from 'node:path';

const run = promisify(execFile);

describe('karate club GCN example', () => {
  it('classifies the 32 unlabelled members from two labels with at least 80% accuracy', async () => {
    const { stdout } = await run(process.execPath, [join(process.cwd(), 'examples', 'karate-gcn.js')], { maxBuffer: 1 << 24 });
    const members = [...stdout.matchAll(/^member +(\d+): predicted (Mr\. Hi|Officer) +actual (Mr\. Hi|Officer)/gm)];
    expect(members.map((m) => Number(m[1]))).toEqual(Array.from({ length: 34 }, (_, i) => i));
    // the two labelled members are fitted
    expect(members[0][2]).toBe('Mr. Hi');
    expect(members[33][2]).toBe('Officer');
    const [, acc, correct] = /test accuracy: ([\d.]+)% \((\d+)\/32 unlabelled members\)/.exec(stdout)!;
    expect(Number(acc)).toBeGreaterThanOrEqual(80);
    // the reported accuracy agrees with the printed predictions
    const right = members.filter((m) => m[1] !== '0' && m[1] !== '33' && m[2] === m[3]).length;
    expect(right).toBe(Number(correct));
  });
});
