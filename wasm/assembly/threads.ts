// The worker side of the thread pool (needs atomics). Every thread (the host's main thread
// as 0, workers 1..n-1) runs the same instance code over the shared memory. A job is a block of
// i32 slots at `ctrl`:
//   [0] generation: bumped by the host for each job (the futex word workers wait on)
//   [1] done: units of the current job finished (tasks.ts)
//   [2] threads taking part        [3] task code (Task in codes.ts; Task.EXIT: leave)
//   [4..] task arguments (i32)
//   [60] a worker that trapped (set by its host-side wrapper)
//   [62..63] an i64: the job's number (high half) and its next unit (low half), closed when the
//            job is over (tasks.ts claim)
//   [64 + tid] worker tid's admission slot: 1 started, 2 host says go, 3 in the loop
// A worker that wakes late (on a busy machine the OS may not run it for milliseconds) finds the
// units taken and goes back to waiting: the host never waits for a worker that has not started.

import { runTask } from './tasks';
import { Task } from './codes';

const GEN = 0, TASK = 12, ADMIT = 256;
/** Iterations (tens of milliseconds) to spin before sleeping: a training step issues jobs every few hundred microseconds. */
const SPIN = 20000000;

/**
 * A worker's life. Admission first: announce itself (1) and wait for the host's go (2), given only
 * between jobs, then take the current generation as its baseline and confirm (3); so a worker
 * never sees half of a job. Then: wait for a new generation, take units of it while there are any
 * if it takes part; until the exit task.
 */
export function workerLoop(ctrl: usize, tid: i32): void {
  const slot = ctrl + ADMIT + (<usize>tid << 2);
  atomic.store<i32>(slot, 1);
  while (atomic.load<i32>(slot) != 2) atomic.wait<i32>(slot, 1, 1000000);
  let gen = atomic.load<i32>(ctrl + GEN);
  atomic.store<i32>(slot, 3);
  while (true) {
    let spins = 0;
    while (atomic.load<i32>(ctrl + GEN) == gen) {
      if (++spins > SPIN) {
        atomic.wait<i32>(ctrl + GEN, gen, -1);
        spins = 0;
      }
    }
    gen = atomic.load<i32>(ctrl + GEN);
    const task = atomic.load<i32>(ctrl + TASK);
    if (task == Task.EXIT) return;
    runTask(ctrl, tid); // takes nothing from a job sized for fewer threads
  }
}
