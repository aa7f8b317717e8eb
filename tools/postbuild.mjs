// After tsc: make the CLI entry executable (npm links it as the `nabla` bin).
import { chmodSync, existsSync } from 'node:fs';

const bin = new URL('../dist/cli/nabla.js', import.meta.url);
if (existsSync(bin)) chmodSync(bin, 0o755);
