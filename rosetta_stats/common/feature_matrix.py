"""A table's feature columns as one numpy array, copied out of the buffer they share in one pass.

A DataFrame built on a 2-D array keeps it as one block, and so does one read
from a file; its columns are then strided views into that block. Copying
them through numpy (a slice or a ``take`` on the block) is several times
faster than pandas' column-by-column assembly.
"""
from __future__ import annotations

import numpy as np
import pandas as pd


def default_dtype(frame: pd.DataFrame, features) -> np.dtype:
    """float32 when every feature column is float32 (it stays float32), else float64."""
    dtypes = frame.dtypes[list(features)]
    return np.dtype(np.float32 if len(dtypes) and all(t == np.float32 for t in dtypes) else np.float64)


def _span(positions: np.ndarray) -> slice | None:
    """The slice the positions make when they are consecutive and increasing, else None."""
    first = int(positions[0])
    if np.array_equal(positions, np.arange(first, first + len(positions))):
        return slice(first, first + len(positions))
    return None


def copy_columns(columns: list[np.ndarray], rows: np.ndarray | None, dtype: np.dtype) -> np.ndarray | None:
    """The columns side by side, ``rows`` (indices) of them, as a new array; None if they share no buffer.

    The result is row-major when the buffer is, column-major (a transposed
    C array) when each column is contiguous.
    """
    shared = shared_buffer(columns)
    if shared is None or shared[0].dtype != dtype:
        return None
    view, positions, row_major = shared
    block = view if row_major else view.T  # features along axis 1 (row-major) or axis 0
    axis = 1 if row_major else 0
    span = _span(positions)
    if span is not None:
        picked = block[:, span] if row_major else block[span]
    else:
        picked = np.take(block, positions, axis=axis)
    if rows is not None:
        picked = picked[rows] if row_major else picked[:, rows]
    if np.may_share_memory(picked, block):
        picked = picked.copy()
    return picked if row_major else picked.T


def shared_buffer(columns: list[np.ndarray]):
    """(2-D read-only view of the buffer the columns share, their positions in it, row-major?) or None.

    The view is only ever indexed at ``positions``, so it reads no element
    that is not one of the given columns' own.
    """
    if not columns or not all(isinstance(c, np.ndarray) and c.ndim == 1 for c in columns):
        return None
    first = columns[0]
    if first.dtype.kind != "f" or any(c.dtype != first.dtype or c.strides != first.strides for c in columns):
        return None
    item, n, row_stride = first.itemsize, len(first), first.strides[0]
    if n < 2 or row_stride <= 0:
        return None
    addresses = np.array([c.__array_interface__["data"][0] for c in columns], dtype=np.int64)
    origin = int(np.argmin(addresses))
    offsets = addresses - addresses[origin]
    if row_stride == item:  # each column contiguous, columns n items apart
        if (offsets % (n * item)).any():
            return None
        positions = offsets // (n * item)
        strides, row_major = (item, n * item), False
    else:
        if (offsets % item).any() or (int(offsets.max()) // item + 1) * item > row_stride:
            return None
        positions = offsets // item
        strides, row_major = (row_stride, item), True
    view = np.lib.stride_tricks.as_strided(columns[origin], shape=(n, int(positions.max()) + 1),
                                           strides=strides, writeable=False)
    return view, positions, row_major


def writable_block(frame: pd.DataFrame, features) -> np.ndarray | None:
    """The features as a writable rows x features view of the frame's own buffer, or None.

    Only when the columns are consecutive, in order, in one writable buffer
    (a frame built on a 2-D array, as the readers build it). Writing to the
    view changes the frame.
    """
    columns = [frame[f].to_numpy() for f in features]
    shared = shared_buffer(columns)
    if shared is None or not all(c.flags.writeable for c in columns):
        return None
    view, positions, _ = shared
    span = _span(positions)
    if span is None or span.start != 0 or int(np.argmin(positions)) != 0:
        return None
    first = columns[0]
    return np.lib.stride_tricks.as_strided(first, shape=view.shape, strides=view.strides, writeable=True)[:, span]


def row_blocks(n: int, size: int = 4096):
    """Slices of ``size`` rows covering n rows: passes over a big matrix by blocks keep their temporaries
    (masks, gathered rows) small."""
    return (slice(start, start + size) for start in range(0, n, size))


def compact_columns(values: np.ndarray, keep: np.ndarray) -> np.ndarray:
    """``values[:, keep]`` written into the first columns of ``values`` itself (by blocks of rows).

    Returns a view of the kept columns; no second matrix is made. ``values``
    must be ours to change.
    """
    kept = np.flatnonzero(keep)
    for rows in row_blocks(len(values)):
        values[rows, :len(kept)] = values[rows][:, kept]
    return values[:, :len(kept)]


def feature_matrix(frame: pd.DataFrame, features, rows: np.ndarray | None = None, dtype=None) -> np.ndarray:
    """The feature columns (of the ``rows`` a boolean mask keeps) as one new, writable numpy array.

    ``dtype`` defaults to float32 when every feature column is float32, else
    float64. When the columns are views into one buffer (a frame built on a
    2-D array, or read from a file) numpy copies them straight from it in one
    pass; otherwise pandas assembles them.
    """
    features = list(features)
    dtype = default_dtype(frame, features) if dtype is None else dtype
    keep = None if rows is None or bool(np.all(rows)) else np.flatnonzero(rows)
    copied = copy_columns([frame[f].to_numpy() for f in features], keep, np.dtype(dtype))
    if copied is not None:
        return copied
    matrix = frame[features].to_numpy(dtype=dtype)
    matrix = matrix[keep] if keep is not None else matrix
    return matrix if matrix.flags.writeable and matrix.flags.owndata else matrix.copy()


def with_feature_block(frame: pd.DataFrame, features, values: np.ndarray, dropped=()) -> pd.DataFrame:
    """``frame`` with ``features`` replaced by the columns of ``values`` and ``dropped`` removed.

    Built as one block joined to the other columns (assigning a thousand
    columns one by one costs minutes); the column order is kept.
    """
    features, dropped = list(features), set(dropped)
    replaced = set(features) | dropped
    block = pd.DataFrame(values, columns=features, index=frame.index, copy=False)
    others = frame[[c for c in frame.columns if c not in replaced]]
    out = pd.concat([others, block], axis=1, copy=False) if len(others.columns) else block
    order = [c for c in frame.columns if c not in dropped]
    return out if list(out.columns) == order else out[order]


class FeatureRows:
    """Chosen rows of a frame's feature columns, read in blocks straight from the frame's buffer.

    Statistics that pass over the rows once (replicate correlations) read
    them block by block instead of copying the whole matrix first: at CDRP
    size that copy is a gigabyte. ``rows``: indices into the frame. When the
    columns share no buffer (or another dtype is asked for) the rows are
    copied once, up front.
    """

    def __init__(self, source: np.ndarray, rows: np.ndarray, positions: np.ndarray | None, dtype):
        self.source, self.rows, self.positions, self.dtype = source, rows, positions, np.dtype(dtype)

    @classmethod
    def of(cls, frame: pd.DataFrame, features, rows: np.ndarray, dtype=None) -> "FeatureRows":
        features = list(features)
        dtype = default_dtype(frame, features) if dtype is None else dtype
        shared = shared_buffer([frame[f].to_numpy() for f in features])
        if shared is None or shared[0].dtype != np.dtype(dtype):
            mask = np.zeros(len(frame), dtype=bool)
            mask[rows] = True
            return cls.of_matrix(feature_matrix(frame, features, rows=mask, dtype=dtype))
        view, positions, _ = shared
        span = _span(positions)
        if span is not None:
            return cls(view[:, span], np.asarray(rows), None, dtype)
        return cls(view, np.asarray(rows), positions, dtype)

    @classmethod
    def of_matrix(cls, matrix: np.ndarray) -> "FeatureRows":
        return cls(matrix, np.arange(len(matrix)), None, matrix.dtype)

    def __len__(self) -> int:
        return len(self.rows)

    @property
    def width(self) -> int:
        return self.source.shape[1] if self.positions is None else len(self.positions)

    def take(self, which) -> np.ndarray:
        """A new, writable array of the rows ``which`` (indices or a slice of this selection)."""
        block = self.source[self.rows[which]]
        if self.positions is not None:
            block = np.take(block, self.positions, axis=1)
        return np.ascontiguousarray(block, dtype=self.dtype)

    def column(self, j: int) -> np.ndarray:
        column = self.positions[j] if self.positions is not None else j
        return np.asarray(self.source[self.rows, column])

    def subset(self, keep: np.ndarray) -> "FeatureRows":
        return FeatureRows(self.source, self.rows[keep], self.positions, self.dtype)

    def blocks(self, size: int = 4096):
        """(start, stop, new array of those rows) over the selection."""
        for rows in row_blocks(len(self.rows), size):
            yield rows.start, min(rows.stop, len(self.rows)), self.take(rows)
