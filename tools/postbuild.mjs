// After tsc: make the CLI entry executable (npm links it as the `nabla` bin), and inside this
// repository link node_modules/.bin/nabla to it, so `npx nabla` runs the checkout's build at once
// (npm links the bins of dependencies only; without the link npx would install the repository
// into its own cache first, about a minute).
import { chmodSync, existsSync, lstatSync, mkdirSync, symlinkSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const bin = fileURLToPath(new URL('../dist/cli/nabla.js', import.meta.url));
if (existsSync(bin)) chmodSync(bin, 0o755);

const binDir = fileURLToPath(new URL('../node_modules/.bin/', import.meta.url));
const link = `${binDir}nabla`;
const linked = (() => {
  try {
    lstatSync(link);
    return true;
  } catch {
    return false;
  }
})();
if (existsSync(bin) && existsSync(fileURLToPath(new URL('../node_modules/', import.meta.url))) && !linked && process.platform !== 'win32') {
  mkdirSync(binDir, { recursive: true });
  symlinkSync('../../dist/cli/nabla.js', link);
}
