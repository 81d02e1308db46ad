/* y += a x for one row of the Gram matrix: the only inner loop of the lockstep lasso path.
 *
 * Compiled in three versions (AVX-512, AVX2, plain x86-64) chosen when the
 * module loads, so one build runs on any x86-64 machine at its best width.
 */
#ifndef ROSETTA_GRAM_LASSO_AXPY_H
#define ROSETTA_GRAM_LASSO_AXPY_H

#if defined(__GNUC__) && !defined(__clang__) && defined(__x86_64__) && defined(__linux__)
#define ROSETTA_CLONES __attribute__((target_clones("avx512f", "avx2", "default")))
#else
#define ROSETTA_CLONES
#endif

ROSETTA_CLONES
static void axpy_row(int n, double a, const double *restrict x, double *restrict y)
{
    for (int i = 0; i < n; ++i)
        y[i] += a * x[i];
}

#endif
