// The Transformer sorting example, run as a user runs it (node examples/transformer-sort.js, importing 'nabla'), in short form.
import { describe, it, expect } from 'vitest';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { join } from 'node:path';

const run = promisify(execFile);

describe('examples/transformer-sort.js', () => {
  it('learns to sort digit sequences well above the input-blind baseline in 50 steps', async () => {
    const { stdout } = await run(process.execPath, [join(process.cwd(), 'examples', 'transformer-sort.js'), '--steps', '50', '--test', '300'], { maxBuffer: 1 << 24 });
    const num = (re: RegExp) => Number(re.exec(stdout)![1]);
    const base = num(/baseline token accuracy ([\d.]+)%/),
      token = num(/^token accuracy ([\d.]+)%/m),
      seq = num(/^sequence accuracy ([\d.]+)%/m);
    // Chance is 10% per token; predicting each position's most frequent digit gets about 33%.
    expect(base).toBeGreaterThan(25);
    expect(base).toBeLessThan(40);
    expect(token).toBeGreaterThan(60);
    expect(token).toBeGreaterThan(base + 25);
    expect(seq).toBeGreaterThanOrEqual(0);
    // and five example predictions of 8 digits each
    const preds = [...stdout.matchAll(/→ predicted ((?:\d ){7}\d)/g)].map((m) => m[1].split(' ').map(Number));
    expect(preds.length).toBe(5);
  });
});
