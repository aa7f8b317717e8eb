// Data types: names, typed-array storage classes and the promotion rule for mixed-dtype ops.

/** Element types: 32- and 64-bit floats, 32-bit integers and booleans. */
export type DType = 'float32' | 'float64' | 'int32' | 'bool';

/** The typed arrays tensor data is stored in and read back as (`bool` is a Uint8Array of 0/1). */
export type TypedArray = Float32Array | Float64Array | Int32Array | Uint8Array;

/** The typed array each dtype is stored in (bool is one byte of 0/1). */
export function arrayFor(dtype: DType, n: number): TypedArray {
  switch (dtype) {
    case 'float32':
      return new Float32Array(n);
    case 'float64':
      return new Float64Array(n);
    case 'int32':
      return new Int32Array(n);
    case 'bool':
      return new Uint8Array(n);
  }
}

export function isFloat(dtype: DType): boolean {
  return dtype === 'float32' || dtype === 'float64';
}

export const DTYPES: readonly DType[] = ['float32', 'float64', 'int32', 'bool'];

export function checkDType(dtype: string, where: string): DType {
  if (!(DTYPES as readonly string[]).includes(dtype)) {
    throw new Error(`${where}: unknown dtype '${dtype}', expected one of ${DTYPES.join(', ')}`);
  }
  return dtype as DType;
}

const RANK: Record<DType, number> = { bool: 0, int32: 1, float32: 2, float64: 3 };

/** PyTorch-like promotion over our four dtypes: bool < int32 < float32 < float64. */
export function promote(a: DType, b: DType): DType {
  return RANK[a] >= RANK[b] ? a : b;
}

/** The dtype of a typed array given as data, or null when it is not one of ours. */
export function dtypeOfArray(a: unknown): DType | null {
  if (a instanceof Float32Array) return 'float32';
  if (a instanceof Float64Array) return 'float64';
  if (a instanceof Int32Array) return 'int32';
  if (a instanceof Uint8Array) return 'bool';
  return null;
}
