// The reference backend `js`: plain TypeScript loops over typed arrays, float32 and float64. It is
// the specification every other backend is tested against: readable over fast.

import type { Backend, KernelTable, Storage } from '../backend.js';
import { BINARY_PRIMS, kernelsFor, registerBackend, UNARY_PRIMS } from '../backend.js';
import { arrayFor, type DType, type TypedArray } from '../../tensor/dtype.js';
import { AllocationError } from '../../tensor/memory.js';
import { binaryKernel, castKernel, copyKernel, unaryKernel, whereKernel } from './elementwise.js';
import { argmaxKernel, maxKernel, sumKernel } from './reduce.js';
import { matmulKernel } from './matmul.js';
import { concatKernel, gatherKernel, padKernel, randomKernel, scatterAddKernel } from './indexing.js';
import { foldKernel, unfoldKernel } from './unfold.js';
import { copyIntoKernel } from './inplace.js';

let nextId = 1;

export function createJsBackend(): Backend {
  let live = 0;
  // A primitive without a kernel is a compile error (the elementwise ones: in the factories' tables).
  const u = unaryKernel,
    b = binaryKernel;
  const kernels: KernelTable = {
    ...kernelsFor(UNARY_PRIMS, u),
    ...kernelsFor(BINARY_PRIMS, b),
    where: whereKernel,
    sum: sumKernel,
    max: maxKernel,
    argmax: argmaxKernel,
    cast: castKernel,
    copy: copyKernel,
    matmul: matmulKernel,
    gather: gatherKernel,
    scatterAdd: scatterAddKernel,
    concat: concatKernel,
    pad: padKernel,
    random: randomKernel,
    unfold: unfoldKernel,
    fold: foldKernel,
  };
  const backend: Backend = {
    name: 'js',
    allocate(size: number, dtype: DType): Storage {
      let handle: TypedArray;
      try {
        handle = arrayFor(dtype, size);
      } catch (e) {
        // The engine's limit on a typed array's length, or no memory for one that large.
        if (e instanceof RangeError) throw new AllocationError('js', size * arrayFor(dtype, 0).BYTES_PER_ELEMENT, 'a typed array can hold here');
        throw e;
      }
      live++;
      return { backend, dtype, size, handle, refs: 0, id: nextId++ };
    },
    free(storage: Storage): void {
      // The garbage collector reclaims the array; dropping the handle makes use-after-free loud.
      storage.handle = null;
      live--;
    },
    write(storage: Storage, data: TypedArray): void {
      (storage.handle as TypedArray).set(data);
    },
    async read(storage: Storage): Promise<TypedArray> {
      return (storage.handle as TypedArray).slice();
    },
    readSync(storage: Storage): TypedArray {
      return (storage.handle as TypedArray).slice();
    },
    kernels,
    copyInto: copyIntoKernel,
    liveBuffers: () => live,
  };
  return backend;
}

registerBackend('js', createJsBackend);
