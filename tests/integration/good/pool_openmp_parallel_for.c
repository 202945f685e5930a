/* issue 12 item 1: a clean OpenMP program. A parallel-for (and a reduction) runs on the OpenMP
 * runtime's thread pool (libgomp with gcc, libomp with clang), which the runtime owns: it keeps
 * its worker threads parked for the next parallel region and never joins them before the process
 * ends. Nothing here is the program's leak: no report, exit 0. */
// build: -fopenmp
#include <omp.h>
#include <stdio.h>

#include "tw_test.h"

#define N 100000

static double data[N];

static TW_NOINLINE double compute(void) {
  double sum = 0;
#pragma omp parallel for
  for (int i = 0; i < N; i++) data[i] = i * 0.5;
#pragma omp parallel for reduction(+ : sum)
  for (int i = 0; i < N; i++) sum += data[i];
  return sum;
}

int main(void) {
  omp_set_num_threads(4); /* at least three pool threads, whatever the machine */
  double sum = compute();
  TW_CHECK(sum == 0.5 * ((double)N * (N - 1) / 2));
  printf("sum = %.1f\n", sum);
  return 0;
}
