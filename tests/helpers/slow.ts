// Opt-in slow cases: NABLA_SLOW_TESTS=1 runs the tests that take tens of seconds for little more
// coverage than their quick neighbours (each says what covers it meanwhile); without it they are
// skipped with that reason, so `npm test` stays within a few minutes on 2 cores.
export const SLOW_TESTS = !!process.env.NABLA_SLOW_TESTS && process.env.NABLA_SLOW_TESTS !== '0';

/** The suffix of a slow test's name: empty when it runs, the reason when it is skipped. */
export const slowSkipReason = (coveredBy: string): string => (SLOW_TESTS ? '' : ` (skipped: slow; set NABLA_SLOW_TESTS=1 to run it; ${coveredBy})`);
