/* One epoch of unpenalised (alpha = 0) coordinate descent on the rows, for many columns at once.
 *
 * Column c of v is a residual y - X w; a step at coordinate j moves every column by
 * d_c = X_j'v_c / Q_jj: v_c -= d_c X_j, w_jc += d_c. The columns are laid along the rows of v
 * (v[i, c]), so both halves of a step run over contiguous stretches of v and vectorise across
 * columns; a block of columns that fits the first-level cache makes each step arithmetic-bound.
 * ld* are row strides (in doubles), so a block of columns of a wider array can be passed.
 */
#ifndef ROSETTA_UNPENALISED_ROWS_H
#define ROSETTA_UNPENALISED_ROWS_H

#include <stdint.h>
#include <stdlib.h>

#include "gram_lasso_axpy.h"  /* ROSETTA_CLONES, rosetta_v8 */

/* One step on `width` (8, 16, 24 or 32) columns from column c0: the products stay in registers. */
#define UNP_STEP(WIDTH)                                                                          \
    {                                                                                            \
        rosetta_v8 a0 = {0}, a1 = {0}, a2 = {0}, a3 = {0};                                           \
        for (int i = 0; i < n; ++i) {                                                            \
            const double *vi = v + (size_t)i * ldv + c0;                                         \
            double xi = x[i];                                                                    \
            a0 += xi * rosetta_load8(vi);                                                             \
            if (WIDTH > 8) a1 += xi * rosetta_load8(vi + 8);                                          \
            if (WIDTH > 16) a2 += xi * rosetta_load8(vi + 16);                                        \
            if (WIDTH > 24) a3 += xi * rosetta_load8(vi + 24);                                        \
        }                                                                                        \
        a0 /= qjj; a1 /= qjj; a2 /= qjj; a3 /= qjj;                                              \
        rosetta_store8(dk + c0, a0); rosetta_store8(mj + c0, rosetta_load8(mj + c0) + a0);                      \
        if (WIDTH > 8) { rosetta_store8(dk + c0 + 8, a1); rosetta_store8(mj + c0 + 8, rosetta_load8(mj + c0 + 8) + a1); }     \
        if (WIDTH > 16) { rosetta_store8(dk + c0 + 16, a2); rosetta_store8(mj + c0 + 16, rosetta_load8(mj + c0 + 16) + a2); } \
        if (WIDTH > 24) { rosetta_store8(dk + c0 + 24, a3); rosetta_store8(mj + c0 + 24, rosetta_load8(mj + c0 + 24) + a3); } \
        for (int i = 0; i < n; ++i) {                                                            \
            double *vi = v + (size_t)i * ldv + c0;                                               \
            double xi = x[i];                                                                    \
            rosetta_store8(vi, rosetta_load8(vi) - xi * a0);                                               \
            if (WIDTH > 8) rosetta_store8(vi + 8, rosetta_load8(vi + 8) - xi * a1);                        \
            if (WIDTH > 16) rosetta_store8(vi + 16, rosetta_load8(vi + 16) - xi * a2);                     \
            if (WIDTH > 24) rosetta_store8(vi + 24, rosetta_load8(vi + 24) - xi * a3);                     \
        }                                                                                        \
    }

/* cols must be a multiple of 8 (pad with zero columns: they stay zero). Returns -1 otherwise. */
ROSETTA_CLONES
static int rows_unpenalised_epoch(int n, int cols, const double *xt, const double *diag, const int64_t *steps,
                                  int n_steps, double *v, int ldv, double *moved, int ldm, double *delta, int ldd)
{
    if (cols % 8) return -1;
    for (int c0 = 0; c0 < cols; c0 += 32) {  /* a block of columns at a time: it stays in the first-level cache */
        int width = cols - c0 < 32 ? cols - c0 : 32;
        for (int k = 0; k < n_steps; ++k) {
            int64_t j = steps[k];
            const double *x = xt + (size_t)j * n;
            double qjj = diag[j];
            double *dk = delta + (size_t)k * ldd, *mj = moved + (size_t)j * ldm;
            if (width == 32) UNP_STEP(32)
            else if (width == 24) UNP_STEP(24)
            else if (width == 16) UNP_STEP(16)
            else UNP_STEP(8)
        }
    }
    return 0;
}

#endif
