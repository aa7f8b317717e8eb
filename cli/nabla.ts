#!/usr/bin/env node
// The `nabla` executable.

import { enableRelaxedSimd } from '../src/platform/relaxed-simd.js';
import { main } from './program.js';

// Before anything compiles Wasm: the kernels' relaxed-SIMD build needs the flag on Node 20-21.
enableRelaxedSimd();
main(process.argv).then((code) => { process.exitCode = code; });
