/* scikit-learn's lasso coordinate descent carried on the rows, for folds with more features than rows.
 *
 * The Gram kernel keeps H = Q w current for every feature: each changed
 * coefficient costs one pass over a row of Q (p numbers). When the rows are
 * fewer than the features, the fitted values u = X w (n numbers) are the
 * smaller state: H_j = X_j'u is one dot product of length n, and a change
 * moves u by one scaled column of X.
 *
 * Most visits find a zero coefficient that stays zero (|q_j - H_j| within
 * the penalty). Those visits are decided without the dot product by a bound:
 * since the last exact H_j, u has moved by at most ``reach`` in Euclidean
 * norm, so H_j has moved by at most ||X_j|| reach (Cauchy-Schwarz). The
 * distance is taken through a reference point per output (see the comment
 * above rows_lasso_path): exact distances to the reference, kept as u moves,
 * plus the exact jumps of the reference in between. A visit is skipped only
 * when the bound stays below the penalty by a relative margin far wider than
 * rounding; every other visit takes scikit-learn's step with H_j computed
 * exactly. The duality gap computes H_j exactly for the nonzero coefficients
 * and for the zero ones whose bound could reach the largest |q_j - H_j|.
 *
 * So the iterates, the epoch counts and the stopping decisions are
 * scikit-learn's (its non-Gram routine computes X_j'R the same way), to
 * rounding. A block of outputs steps in lockstep, sharing the coordinate
 * draws and the column X_j; per-coordinate state is laid out output-minor so
 * the skip test reads one cache line per eight outputs.
 */
#ifndef ROSETTA_ROWS_LASSO_H
#define ROSETTA_ROWS_LASSO_H

#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "gram_lasso_axpy.h"  /* ROSETTA_CLONES, axpy_row, rosetta_v8 */

#define ROWS_LANES 8                   /* outputs tested together at each coordinate */
#define ROWS_RAND_R_MAX 0x7FFFFFFFu
#define ROWS_NONZERO 1e300             /* the key of a nonzero coefficient: always computed exactly */

/* x'y in four independent sums (the loop is bound by the adds' latency, not by loads) */
static inline double rows_dot(int n, const double *restrict x, const double *restrict y)
{
    rosetta_v8 s0 = {0}, s1 = {0}, s2 = {0}, s3 = {0};
    int i = 0;
    for (; i + 32 <= n; i += 32) {
        s0 += rosetta_load8(x + i) * rosetta_load8(y + i);
        s1 += rosetta_load8(x + i + 8) * rosetta_load8(y + i + 8);
        s2 += rosetta_load8(x + i + 16) * rosetta_load8(y + i + 16);
        s3 += rosetta_load8(x + i + 24) * rosetta_load8(y + i + 24);
    }
    for (; i + 8 <= n; i += 8) s0 += rosetta_load8(x + i) * rosetta_load8(y + i);
    double s = rosetta_sum8((s0 + s1) + (s2 + s3));
    for (; i < n; ++i) s += x[i] * y[i];
    return s;
}

/* scikit-learn's rand_int(p, state): a 32-bit xorshift step, then (s & RAND_R_MAX) % p by multiplication */
static inline uint32_t rows_next(uint32_t *state, uint64_t inverse, uint32_t p)
{
    uint32_t s = *state ? *state : 1;
    s ^= s << 13; s ^= s >> 17; s ^= s << 5;
    *state = s;
    return (uint32_t)(((__uint128_t)(inverse * (s & ROWS_RAND_R_MAX)) * p) >> 64);
}

/* The duality gap of output a (scikit-learn's formula, beta = 0); refreshes the keys it computes exactly
 * (key = |q_j - H_j| + ||X_j|| offset, with offset the lane's reach less twice its base). */
static double rows_gap(int p, int n, int lanes, int a, const double *xt, const double *norms, const double *u,
                       const double *wT, const double *qT, double *key, double reach, double offset, double alpha,
                       double y2)
{
    double q_dot_w = 0, w_dot_h = 0, l1 = 0, dual = 0, h, x, r2, c, gap;
    for (int j = 0; j < p; ++j) {
        size_t k = (size_t)j * lanes + a;
        if (wT[k] == 0.0) continue;
        h = rows_dot(n, xt + (size_t)j * n, u);
        q_dot_w += wT[k] * qT[k];
        w_dot_h += wT[k] * h;
        l1 += fabs(wT[k]);
        x = fabs(qT[k] - h);
        if (x > dual) dual = x;
    }
    for (int j = 0; j < p; ++j) {
        size_t k = (size_t)j * lanes + a;
        if (wT[k] != 0.0 || norms[j] == 0.0 || key[k] + norms[j] * reach <= dual) continue;
        h = rows_dot(n, xt + (size_t)j * n, u);
        x = fabs(qT[k] - h);
        key[k] = x + norms[j] * offset;
        if (x > dual) dual = x;
    }
    r2 = y2 + w_dot_h - 2.0 * q_dot_w;
    if (dual > alpha) { c = alpha / dual; gap = 0.5 * (r2 + r2 * c * c); }
    else { c = 1.0; gap = r2; }
    return gap + alpha * l1 - c * y2 + c * q_dot_w;
}

static inline double rows_dist2(int n, const double *restrict x, const double *restrict y)
{
    double s = 0.0;
    for (int i = 0; i < n; ++i) s += (x[i] - y[i]) * (x[i] - y[i]);
    return s;
}

/* The penalised path for a block of `outputs` outputs.
 *
 * xt: features x rows (centred training rows, transposed, C order); diag: Q_jj; xy: outputs x features;
 * y2: ||y||^2 per output; pen: the path's alpha times n, decreasing; seeds: the draw per alpha;
 * w: outputs x features (in: start, out: last coefficients); u: outputs x rows, X w on entry, kept;
 * coefs: outputs x alphas x features; n_iter: outputs x alphas. Returns -1 when memory runs out.
 *
 * How far u has moved since a coordinate's last exact product is bounded through a reference point R
 * per output: |u_now - u_then| <= |u_then - R_then| + (the distances between the references in between)
 * + |u_now - R_now|. |u - R|^2 is kept exactly as u moves (|D + s X_j|^2 = |D|^2 + 2 s X_j'D + s^2 Q_jj,
 * with X_j'D = H_j - X_j'R and X_j'R cached per reference) and recomputed at every epoch's end; the
 * reference moves to u when u has gone further from it than REF_SPAN times the epoch's own movement.
 * Oscillating epochs then add up to their net distance, not to the length of their path.
 */
#define ROWS_REF_SPAN 4.0

ROSETTA_CLONES
static int rows_lasso_path(int p, int n, int outputs, int n_alpha, const double *xt, const double *diag,
                           const double *xy, const double *y2, const double *pen, const uint32_t *seeds,
                           int max_iter, double tol, double *w, double *u, double *coefs, int *n_iter)
{
    const double grow = 1.0 + 1e-9, margin = 1.0 - 1e-9;
    int lanes = (outputs + ROWS_LANES - 1) / ROWS_LANES * ROWS_LANES;  /* padded lanes are never visited */
    size_t pl = (size_t)p * lanes, nl = (size_t)n * outputs + 1;
    double *norms = malloc(sizeof(double) * p), *key = malloc(sizeof(double) * pl);
    double *qT = calloc(pl, sizeof(double)), *wT = calloc(pl, sizeof(double)), *ref_h = calloc(pl, sizeof(double));
    unsigned *ref_of = calloc(pl, sizeof(unsigned)), *ref_id = calloc(lanes, sizeof(unsigned));
    double *ref = calloc(nl, sizeof(double)), *u0 = calloc(nl, sizeof(double));
    double *base = calloc(lanes, sizeof(double)), *dr2 = calloc(lanes, sizeof(double));
    double *reach = calloc(lanes, sizeof(double)), *cut = malloc(sizeof(double) * lanes);
    double *w_max = malloc(sizeof(double) * lanes), *d_w_max = malloc(sizeof(double) * lanes);
    char *live = calloc(lanes, 1);
    int status = -1;
    if (!norms || !key || !qT || !wT || !ref_h || !ref_of || !ref_id || !ref || !u0 || !base || !dr2 || !reach
        || !cut || !w_max || !d_w_max || !live)
        goto out;
    uint64_t inverse = UINT64_C(0xFFFFFFFFFFFFFFFF) / (uint32_t)p + 1;
    for (int j = 0; j < p; ++j) norms[j] = sqrt(diag[j]) * grow;
    for (int a = 0; a < lanes; ++a) { cut[a] = INFINITY; ref_id[a] = 1; }
    memcpy(ref, u, sizeof(double) * n * outputs);
    for (size_t k = 0; k < pl; ++k) key[k] = 0.0;
    for (int a = 0; a < outputs; ++a)
        for (int j = 0; j < p; ++j) {
            size_t k = (size_t)j * lanes + a;
            qT[k] = xy[(size_t)a * p + j];
            wT[k] = w[(size_t)a * p + j];
            key[k] = wT[k] != 0.0 ? ROWS_NONZERO
                                  : fabs(qT[k] - rows_dot(n, xt + (size_t)j * n, u + (size_t)a * n));
        }
    for (int ia = 0; ia < n_alpha; ++ia) {
        double alpha = pen[ia];
        int n_live = 0;
        for (int a = 0; a < outputs; ++a) {  /* from zero with every |q_j| within the penalty: stays zero */
            int zero = 1;
            for (int j = 0; j < p && zero; ++j) zero = wT[(size_t)j * lanes + a] == 0.0;
            for (int j = 0; j < p && zero; ++j) zero = !(diag[j] != 0.0 && fabs(qT[(size_t)j * lanes + a]) > alpha);
            live[a] = !zero;
            cut[a] = zero ? INFINITY : alpha * margin;
            if (zero) n_iter[(size_t)a * n_alpha + ia] = y2[a] > 0 ? 1 : max_iter;
            n_live += !zero;
        }
        uint32_t state = seeds[ia];
        for (int epoch = 0; epoch < max_iter && n_live > 0; ++epoch) {
            for (int a = 0; a < outputs; ++a) { w_max[a] = 0.0; d_w_max[a] = 0.0; }
            memcpy(u0, u, sizeof(double) * n * outputs);
            for (int f = 0; f < p; ++f) {
                uint32_t j = rows_next(&state, inverse, (uint32_t)p);
                double qjj = diag[j];
                if (qjj == 0.0) continue;
                const double *xj = xt + (size_t)j * n, norm = norms[j];
                double *kj = key + (size_t)j * lanes;
                for (int a0 = 0; a0 < lanes; a0 += ROWS_LANES) {
                    long long test[ROWS_LANES];
                    unsigned mask = 0;
                    for (int b = 0; b < ROWS_LANES; ++b)
                        test[b] = !(kj[a0 + b] + norm * reach[a0 + b] < cut[a0 + b]);
                    for (int b = 0; b < ROWS_LANES; ++b) mask |= (unsigned)test[b] << b;
                    while (mask) {
                        int a = a0 + __builtin_ctz(mask);
                        mask &= mask - 1;
                        size_t k = (size_t)j * lanes + a;
                        double *ua = u + (size_t)a * n;
                        double wj = wT[k], q = qT[k], h = rows_dot(n, xj, ua);
                        double tmp = q - (h - wj * qjj), excess = fabs(tmp) - alpha;
                        /* scikit-learn's soft threshold without a branch on the sign (the same numbers) */
                        double nw = excess > 0.0 ? copysign(excess, tmp) / qjj : 0.0;
                        kj[a] = nw != 0.0 ? ROWS_NONZERO : fabs(q - h) + norm * (reach[a] - 2.0 * base[a]);
                        if (nw != wj) {
                            if (ref_of[k] != ref_id[a]) {  /* X_j'R for this reference, once */
                                ref_h[k] = rows_dot(n, xj, ref + (size_t)a * n);
                                ref_of[k] = ref_id[a];
                            }
                            double step = nw - wj, s2 = dr2[a] + step * (2.0 * (h - ref_h[k]) + step * qjj);
                            wT[k] = nw;
                            dr2[a] = s2 > 0.0 ? s2 : 0.0;
                            axpy_row(n, step, xj, ua);
                            reach[a] = base[a] + sqrt(dr2[a]) * grow;
                            if (fabs(step) > d_w_max[a]) d_w_max[a] = fabs(step);
                        }
                        if (fabs(nw) > w_max[a]) w_max[a] = fabs(nw);
                    }
                }
            }
            for (int a = 0; a < outputs; ++a) {
                if (!live[a]) continue;
                double *ua = u + (size_t)a * n, *ra = ref + (size_t)a * n;
                dr2[a] = rows_dist2(n, ua, ra);
                if (dr2[a] > ROWS_REF_SPAN * ROWS_REF_SPAN * rows_dist2(n, ua, u0 + (size_t)a * n)) {
                    base[a] += sqrt(dr2[a]) * grow;  /* the reference moves to u */
                    memcpy(ra, ua, sizeof(double) * n);
                    dr2[a] = 0.0;
                    ++ref_id[a];
                }
                reach[a] = base[a] + sqrt(dr2[a]) * grow;
                if (w_max[a] == 0.0 || d_w_max[a] / w_max[a] < tol || epoch == max_iter - 1) {
                    if (epoch == max_iter - 1 || rows_gap(p, n, lanes, a, xt, norms, ua, wT, qT, key, reach[a],
                                                          reach[a] - 2.0 * base[a], alpha, y2[a]) < tol * y2[a]) {
                        n_iter[(size_t)a * n_alpha + ia] = epoch + 1;
                        live[a] = 0;
                        cut[a] = INFINITY;
                        --n_live;
                    }
                }
            }
        }
        for (int a = 0; a < outputs; ++a)
            for (int j = 0; j < p; ++j) coefs[((size_t)a * n_alpha + ia) * p + j] = wT[(size_t)j * lanes + a];
    }
    for (int a = 0; a < outputs; ++a)
        for (int j = 0; j < p; ++j) w[(size_t)a * p + j] = wT[(size_t)j * lanes + a];
    status = 0;
out:
    free(norms); free(key); free(qT); free(wT); free(ref_h); free(ref_of); free(ref_id); free(ref); free(u0);
    free(base); free(dr2); free(reach); free(cut); free(w_max); free(d_w_max); free(live);
    return status;
}

#endif
