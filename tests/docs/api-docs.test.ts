// Every public export has a doc comment (issue 15): the API reference (`npm run docs`, TypeDoc) is
// generated from them. tools/undocumented.mjs walks everything reachable from src/index.ts
// (namespaces such as nn, io and models included) with the TypeScript compiler; run it directly to
// list what is missing: node tools/undocumented.mjs
import { describe, it, expect } from 'vitest';
import { undocumented } from '../../tools/undocumented.mjs';

interface Missing {
  name: string;
  file: string;
  line: number;
}

describe('API docs', () => {
  it('every public export has a doc comment', () => {
    const missing = (undocumented() as Missing[]).map((u) => `${u.file}:${u.line} ${u.name}`);
    expect(missing, `public exports without a /** */ comment:\n${missing.join('\n')}`).toEqual([]);
  });
});
