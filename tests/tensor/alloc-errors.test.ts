// A creation op whose size is impossible (more than a typed array or the wasm heap can hold, or
// more bytes than a safe integer counts) throws an error naming the op, the shape and the bytes,
// not the engine's RangeError, and leaves the live-buffer count as it was. A scope whose function
// throws (out of memory, say) disposes what it made, so a retry has its memory back.
import { describe, it, expect } from 'vitest';
import * as nb from '../../src/index.js';

const backend = nb.getBackend();
/** What the backend under test says it cannot exceed. */
const limit = backend.name === 'wasm' ? "the wasm heap's maximum of \\d+ MiB" : 'a typed array can hold here';
const says = (op: string, what: string, bytes: string, max = limit) => new RegExp(`^${op}: ${what.replace(/[[\]]/g, '\\$&')} needs ${bytes} bytes, more than ${max}$`);

describe(`impossible allocations on ${backend.name}`, () => {
  it('creation ops name the op, the shape and the bytes', () => {
    const live = backend.liveBuffers();
    expect(() => nb.zeros([1e6, 1e6])).toThrow(says('zeros', 'a float32 tensor of shape [1000000,1000000]', '4000000000000'));
    expect(() => nb.ones([1e6, 1e6], { dtype: 'float64' })).toThrow(says('ones', 'a float64 tensor of shape [1000000,1000000]', '8000000000000'));
    expect(() => nb.full([1e6, 1e6], 2, { dtype: 'int32' })).toThrow(says('full', 'an int32 tensor of shape [1000000,1000000]', '4000000000000'));
    expect(() => nb.eye(1e6)).toThrow(says('eye', 'a float32 tensor of shape [1000000,1000000]', '4000000000000'));
    expect(() => nb.arange(0, 1e12)).toThrow(says('arange', 'an int32 tensor of shape [1000000000000]', '4000000000000'));
    expect(() => nb.linspace(0, 1, 1e12)).toThrow(says('linspace', 'a float32 tensor of shape [1000000000000]', '4000000000000'));
    expect(() => nb.zeros([1e6, 1e6], { dtype: 'bool' })).toThrow(says('zeros', 'a bool tensor of shape [1000000,1000000]', '1000000000000'));
    // More bytes than a double counts exactly: no backend is asked.
    expect(() => nb.zeros([1e10, 1e10])).toThrow(says('zeros', 'a float32 tensor of shape [10000000000,10000000000]', '400000000000000000000', 'any buffer can hold'));
    expect(backend.liveBuffers()).toBe(live);
  });

  it.skipIf(backend.name !== 'wasm')('on wasm, more than the heap can ever hold (a typed array could)', () => {
    const live = backend.liveBuffers();
    expect(() => nb.zeros([2 ** 31])).toThrow(says('zeros', 'a float32 tensor of shape [2147483648]', '8589934592'));
    expect(backend.liveBuffers()).toBe(live);
  });

  it("an op that allocates through dispatch gets the backend's own message", () => {
    const live = backend.liveBuffers();
    const own = backend.name === 'wasm' ? "the wasm heap's maximum of \\d+ MiB" : 'a typed array can hold here';
    expect(() => nb.ones([1]).expand([1e6, 1e6]).contiguous()).toThrow(new RegExp(`^${backend.name}: a buffer of 4000000000000 bytes is more than ${own}$`));
    expect(backend.liveBuffers()).toBe(live + 1); // the ones([1])
  });

  it('scope() disposes what its function made when it throws, except kept tensors', () => {
    const live = backend.liveBuffers();
    let kept: nb.Tensor | undefined;
    expect(() =>
      nb.scope(() => {
        nb.ones([4]);
        kept = nb.zeros([2]).keep();
        nb.scope(() => nb.ones([3])); // returned to the outer scope
        nb.zeros([1e6, 1e6]);
      }),
    ).toThrow(/^zeros: /);
    expect(backend.liveBuffers()).toBe(live + 1);
    expect(Array.from(kept!.dataSync())).toEqual([0, 0]);
    kept!.dispose();
    expect(backend.liveBuffers()).toBe(live);
  });
});

describe('scope with an async function', () => {
  it('is refused with how to read a value instead', () => {
    expect(() => nb.scope((async () => nb.zeros([2])) as never)).toThrow(
      /scope: the function must be synchronous \(got a Promise\): inside it, read a value with itemSync\(\) or dataSync\(\); or return the tensor from scope and `await t\.item\(\)`/,
    );
  });
});
