// Native float32 FMA peak of this machine (AVX2 + FMA, 8 lanes): many independent FMA chains per
// thread, in as many threads as asked. The benchmark reports GFLOP/s as fractions of this.
// Built on the fly by bench/run.mjs when a C compiler is present.
#include <immintrin.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#define ITERS 50000000L
static double now(void) { struct timespec t; clock_gettime(CLOCK_MONOTONIC, &t); return t.tv_sec + t.tv_nsec * 1e-9; }
static void *work(void *out) {
  __m256 a = _mm256_set1_ps(0.999f), b = _mm256_set1_ps(0.001f);
  // Ten different starting values: identical chains would be merged into one by the compiler
  // (GCC -O2 did, and the probe reported ten times the peak).
  __m256 c0 = _mm256_set1_ps(0.0f), c1 = _mm256_set1_ps(0.1f), c2 = _mm256_set1_ps(0.2f), c3 = _mm256_set1_ps(0.3f),
         c4 = _mm256_set1_ps(0.4f), c5 = _mm256_set1_ps(0.5f), c6 = _mm256_set1_ps(0.6f), c7 = _mm256_set1_ps(0.7f),
         c8 = _mm256_set1_ps(0.8f), c9 = _mm256_set1_ps(0.9f);
  for (long i = 0; i < ITERS; i++) {
    c0 = _mm256_fmadd_ps(a, c0, b); c1 = _mm256_fmadd_ps(a, c1, b); c2 = _mm256_fmadd_ps(a, c2, b);
    c3 = _mm256_fmadd_ps(a, c3, b); c4 = _mm256_fmadd_ps(a, c4, b); c5 = _mm256_fmadd_ps(a, c5, b);
    c6 = _mm256_fmadd_ps(a, c6, b); c7 = _mm256_fmadd_ps(a, c7, b); c8 = _mm256_fmadd_ps(a, c8, b);
    c9 = _mm256_fmadd_ps(a, c9, b);
  }
  __m256 s = _mm256_add_ps(_mm256_add_ps(_mm256_add_ps(c0, c1), _mm256_add_ps(c2, c3)), _mm256_add_ps(_mm256_add_ps(c4, c5), _mm256_add_ps(_mm256_add_ps(c6, c7), _mm256_add_ps(c8, c9))));
  float v[8]; _mm256_storeu_ps(v, s); *(float *)out = v[0];
  return NULL;
}
int main(int argc, char **argv) {
  int n = argc > 1 ? atoi(argv[1]) : 1;
  pthread_t th[256]; float sink[256];
  double t0 = now();
  for (int i = 0; i < n; i++) pthread_create(&th[i], NULL, work, &sink[i]);
  for (int i = 0; i < n; i++) pthread_join(th[i], NULL);
  double s = now() - t0;
  printf("%.2f\n", n * (double)ITERS * 10 * 8 * 2 / s / 1e9 + 0 * sink[0]);
  return 0;
}
