# cython: language_level=3, boundscheck=False, wraparound=False, cdivision=True, initializedcheck=False
"""scikit-learn's lasso coordinate descent for a block of outputs in lockstep: on the Gram matrix, or on the rows.

``lasso_rows_path_block`` (folds with fewer rows than features) wraps the C
kernel in ``rows_lasso.h``; its header explains the route. The rest of this
module is the Gram route:

One call runs the whole penalised path (alphas decreasing, warm starts) for
a block of outputs that share the Gram matrix ``Q`` and the coordinate order
(``selection="random"`` with a fixed random state draws the same order for
every output). Each step follows scikit-learn's ``enet_coordinate_descent_gram``
(``beta = 0``): ``tmp = q_j - (H_j - w_j Q_jj)``, ``w_j = soft(tmp, alpha) / Q_jj``,
``H = Q w`` kept up to date; after every epoch the same test on the largest
step and the same duality gap decide whether an output stops. Three things
differ, none of them in exact arithmetic:

* ``H`` moves once by ``(w_new - w_old) Q_j`` (scikit-learn takes the old
  value out and puts the new one in: two passes over the row);
* ``H`` is carried along the path (scikit-learn recomputes ``Q w`` at every
  alpha);
* the outputs of a block take each step together, so row ``j`` of ``Q`` is
  read from memory once for all of them.

Results equal scikit-learn's to rounding (about 1e-15 relative).
"""
from libc.math cimport fabs
from libc.stdint cimport int64_t, uint32_t
from libc.stdlib cimport free, malloc

cdef extern from "gram_lasso_axpy.h" nogil:
    void axpy_row(int n, double a, const double* x, double* y)

cdef extern from "rows_lasso.h" nogil:
    int rows_lasso_path(int p, int n, int outputs, int n_alpha, const double* xt, const double* diag,
                        const double* xy, const double* y2, const double* pen, const uint32_t* seeds,
                        int max_iter, double tol, double* w, double* u, double* coefs, int* n_iter)

cdef uint32_t RAND_R_MAX = 0x7FFFFFFF


cdef inline uint32_t _next_coordinate(uint32_t* state, uint32_t n) nogil:
    """scikit-learn's ``rand_int(n, state)``: a 32-bit xorshift step, reduced as it reduces it."""
    if state[0] == 0:
        state[0] = 1
    state[0] ^= <uint32_t>(state[0] << 13)
    state[0] ^= <uint32_t>(state[0] >> 17)
    state[0] ^= <uint32_t>(state[0] << 5)
    return (state[0] % (RAND_R_MAX + 1)) % n


cdef double _duality_gap(int p, const double* w, const double* h, const double* q, double alpha,
                         double y_norm2) nogil:
    """The lasso duality gap of scikit-learn's Gram routine (beta = 0), from w, H = Q w and q."""
    cdef double q_dot_w = 0.0, w_dot_h = 0.0, l1 = 0.0, dual = 0.0, x, r_norm2, const, gap
    cdef int i
    for i in range(p):
        q_dot_w += w[i] * q[i]
        w_dot_h += w[i] * h[i]
        l1 += fabs(w[i])
        x = fabs(q[i] - h[i])
        if x > dual:
            dual = x
    r_norm2 = y_norm2 + w_dot_h - 2.0 * q_dot_w
    if dual > alpha:
        const = alpha / dual
        gap = 0.5 * (r_norm2 + r_norm2 * const * const)
    else:
        const = 1.0
        gap = r_norm2
    return gap + alpha * l1 - const * y_norm2 + const * q_dot_w


cdef bint _stays_at_zero(int p, const double* w, const double* q, const double[:, ::1] gram, double alpha) nogil:
    """From w = 0, every step returns 0 when each |q_j| (j with Q_jj != 0) is within the penalty."""
    cdef int i
    for i in range(p):
        if w[i] != 0.0:
            return False
    for i in range(p):
        if gram[i, i] != 0.0 and fabs(q[i]) > alpha:
            return False
    return True


def lasso_gram_path_block(const double[:, ::1] gram, const double[:, ::1] xy, const double[::1] y_norm2,
                          const double[::1] penalties, const uint32_t[::1] seeds, int max_iter, double tol,
                          double[:, ::1] w, double[:, ::1] h, double[:, :, :] coefs, int[:, :] n_iter):
    """Run the path for one block of outputs, in place.

    Arrays are output-major, so a block is a slice of rows: ``xy``, ``w`` and
    ``h`` are outputs x features (``h = w Q`` on entry), ``coefs`` is outputs
    x alphas x features and ``n_iter`` outputs x alphas. ``penalties`` are scikit-learn's alpha times
    the number of rows, decreasing and positive; ``seeds`` the routine's draw
    for each of them. Releases the GIL.
    """
    cdef int p = gram.shape[0], n_out = xy.shape[0], n_alpha = penalties.shape[0]
    cdef int ia, epoch, f, a, g, n_active, kept, i
    cdef uint32_t state, ii
    cdef double alpha, q_ii, w_ii, tmp, new, step, limit
    cdef const double* row
    cdef int* active = <int*> malloc(max(n_out, 1) * sizeof(int))
    cdef double* w_max = <double*> malloc(max(n_out, 1) * sizeof(double))
    cdef double* d_w_max = <double*> malloc(max(n_out, 1) * sizeof(double))
    if active == NULL or w_max == NULL or d_w_max == NULL:
        free(active); free(w_max); free(d_w_max)
        raise MemoryError()
    with nogil:
        for ia in range(n_alpha):
            alpha = penalties[ia]
            n_active = 0
            for g in range(n_out):
                if _stays_at_zero(p, &w[g, 0], &xy[g, 0], gram, alpha):
                    n_iter[g, ia] = 1 if y_norm2[g] > 0 else max_iter  # what the routine would report
                else:
                    active[n_active] = g
                    n_active += 1
            state = seeds[ia]
            for epoch in range(max_iter):
                if n_active == 0:
                    break
                for a in range(n_active):
                    w_max[a] = 0.0
                    d_w_max[a] = 0.0
                for f in range(p):
                    ii = _next_coordinate(&state, p)
                    q_ii = gram[ii, ii]
                    if q_ii == 0.0:
                        continue
                    row = &gram[ii, 0]
                    for a in range(n_active):
                        g = active[a]
                        w_ii = w[g, ii]
                        tmp = xy[g, ii] - (h[g, ii] - w_ii * q_ii)
                        if tmp > alpha:
                            new = (tmp - alpha) / q_ii
                        elif tmp < -alpha:
                            new = (tmp + alpha) / q_ii
                        else:
                            new = 0.0
                        if new != w_ii:
                            step = new - w_ii
                            w[g, ii] = new
                            axpy_row(p, step, row, &h[g, 0])
                            if fabs(step) > d_w_max[a]:
                                d_w_max[a] = fabs(step)
                        if fabs(new) > w_max[a]:
                            w_max[a] = fabs(new)
                kept = 0
                for a in range(n_active):
                    g = active[a]
                    if w_max[a] == 0.0 or d_w_max[a] / w_max[a] < tol or epoch == max_iter - 1:
                        limit = tol * y_norm2[g]
                        if epoch == max_iter - 1 or _duality_gap(p, &w[g, 0], &h[g, 0], &xy[g, 0], alpha,
                                                                 y_norm2[g]) < limit:
                            n_iter[g, ia] = epoch + 1
                            continue
                    active[kept] = g
                    kept += 1
                n_active = kept
            for g in range(n_out):
                for i in range(p):
                    coefs[g, ia, i] = w[g, i]
    free(active)
    free(w_max)
    free(d_w_max)



def lasso_rows_path_block(const double[:, ::1] xt, const double[::1] diag, const double[:, ::1] xy,
                          const double[::1] y_norm2, const double[::1] penalties, const uint32_t[::1] seeds,
                          int max_iter, double tol, double[:, ::1] w, double[:, ::1] u, double[:, :, ::1] coefs,
                          int[:, ::1] n_iter):
    """The path for one block of outputs on the rows, in place (see ``rows_lasso.h``).

    ``xt`` is features x rows (the centred training rows, transposed),
    ``diag`` the Gram matrix's diagonal; ``xy``, ``w`` outputs x features;
    ``u = w X'`` (outputs x rows) on entry; ``coefs`` outputs x alphas x
    features and ``n_iter`` outputs x alphas, as in ``lasso_gram_path_block``.
    Releases the GIL.
    """
    cdef int status
    if xy.shape[0] == 0 or penalties.shape[0] == 0:
        return
    with nogil:
        status = rows_lasso_path(xt.shape[0], xt.shape[1], xy.shape[0], penalties.shape[0], &xt[0, 0], &diag[0],
                                 &xy[0, 0], &y_norm2[0], &penalties[0], &seeds[0], max_iter, tol, &w[0, 0],
                                 &u[0, 0], &coefs[0, 0, 0], &n_iter[0, 0])
    if status != 0:
        raise MemoryError()


cdef extern from "unpenalised_rows.h" nogil:
    int rows_unpenalised_epoch(int n, int cols, const double* xt, const double* diag, const int64_t* steps,
                               int n_steps, double* v, int ldv, double* moved, int ldm, double* delta, int ldd)


def unpenalised_rows_epoch(const double[:, ::1] xt, const double[::1] diag, const int64_t[::1] steps,
                           double[:, :] v, double[:, :] moved, double[:, :] delta):
    """One alpha = 0 epoch on the rows for the columns of ``v`` (rows x columns, residuals y - X w), in place.

    ``steps`` are the epoch's coordinates in order (none with a zero diagonal);
    ``moved`` (features x columns) gains each step and ``delta`` (steps x
    columns) records it. Column blocks of wider arrays may be passed (rows must
    be contiguous). Releases the GIL.
    """
    cdef int status, cols = v.shape[1]
    if cols == 0 or steps.shape[0] == 0:
        return
    if v.strides[1] != 8 or moved.strides[1] != 8 or delta.strides[1] != 8:
        raise ValueError("the columns of v, moved and delta must be contiguous within a row")
    with nogil:
        status = rows_unpenalised_epoch(xt.shape[1], cols, &xt[0, 0], &diag[0], &steps[0], steps.shape[0],
                                        &v[0, 0], v.strides[0] // 8, &moved[0, 0], moved.strides[0] // 8,
                                        &delta[0, 0], delta.strides[0] // 8)
    if status != 0:
        raise MemoryError()


def coordinate_draws(uint32_t seed, uint32_t n_features, Py_ssize_t count):
    """``count`` coordinates drawn from ``seed`` as the Gram kernel draws them (``_next_coordinate``), as int64."""
    import numpy as np

    out = np.empty(count, dtype=np.int64)
    cdef int64_t[::1] view = out
    cdef uint32_t state = seed
    cdef Py_ssize_t k
    with nogil:
        for k in range(count):
            view[k] = _next_coordinate(&state, n_features)
    return out
