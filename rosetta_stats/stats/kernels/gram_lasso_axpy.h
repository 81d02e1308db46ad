/* Pieces shared by the compiled lasso kernels.
 *
 * axpy_row, y += a x (a row of the Gram matrix, or a column of X added to the
 * fitted values), is compiled in three versions (AVX-512, AVX2, plain x86-64)
 * chosen when the module loads, so one build runs on any x86-64 machine at its
 * best width; ROSETTA_CLONES does the same for a whole kernel. rosetta_v8 is
 * eight doubles, which GCC maps onto whatever width the clone has.
 */
#ifndef ROSETTA_GRAM_LASSO_AXPY_H
#define ROSETTA_GRAM_LASSO_AXPY_H

#if defined(__GNUC__) && !defined(__clang__) && defined(__x86_64__) && defined(__linux__)
#define ROSETTA_CLONES __attribute__((target_clones("avx512f", "avx2", "default")))
#else
#define ROSETTA_CLONES
#endif

#include <string.h>

typedef double rosetta_v8 __attribute__((vector_size(64)));

static inline rosetta_v8 rosetta_load8(const double *x)
{
    rosetta_v8 v;
    memcpy(&v, x, sizeof v);
    return v;
}

static inline void rosetta_store8(double *x, rosetta_v8 v)
{
    memcpy(x, &v, sizeof v);
}

static inline double rosetta_sum8(rosetta_v8 v)
{
    return ((v[0] + v[1]) + (v[2] + v[3])) + ((v[4] + v[5]) + (v[6] + v[7]));
}

ROSETTA_CLONES
static void axpy_row(int n, double a, const double *restrict x, double *restrict y)
{
    for (int i = 0; i < n; ++i)
        y[i] += a * x[i];
}

#endif
