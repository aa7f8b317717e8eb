// After tsc: make the CLI entry executable (npm links it as the `nabla` bin), and inside this
// repository link node_modules/.bin/nabla to it, so `npx nabla` runs the checkout's build at once
// (npm links the bins of dependencies only; without the link npx would install the repository
// into its own cache first, about a minute). Then copy the chat and admin pages of `nabla serve`
// (src/serve/web: HTML, JS, CSS that tsc does not emit) beside the compiled server, where it reads them.
import { chmodSync, cpSync, existsSync, lstatSync, mkdirSync, rmSync, symlinkSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const web = fileURLToPath(new URL('../src/serve/web/', import.meta.url));
const webOut = fileURLToPath(new URL('../dist/src/serve/web/', import.meta.url));
if (existsSync(web)) {
  rmSync(webOut, { recursive: true, force: true }); // a file removed from src/serve/web leaves dist too
  cpSync(web, webOut, { recursive: true });
}

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
