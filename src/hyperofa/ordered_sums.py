"""Compiled loops (numba; imported on first use, compiled once and cached on disk) that add float64
terms in one fixed order, so a value never depends on where its row sits or how the work is cut,
nor on the CPU (no fused multiply-adds): token means in list order (`add_list_means`), cosines in
dimension order (`ordered_dots` for dense rows, `gathered_dots` for given rows)."""

from __future__ import annotations

import numba
import numpy as np

_BLOCK = 1_024  # columns `ordered_dots` keeps in cache while it runs the queries over them


@numba.njit(nogil=True, cache=True)
def add_list_means(out, rows, starts, ends, words, times, counted, vectors):
    """out[rows[k]] += Σ vectors[w] / len over list k, in list order, float64.

    List k is `words[starts[k]:ends[k]]`, each word standing `times[p]` times in a row when
    `counted` (else once), and len its number of entries. Every entry is added on its own, weight
    times row then sum, as scipy's CSR product and the public code's `sum(axis=0)` add them, so
    the means are bit-identical to theirs. Rows are read from `vectors` (float32 or float64, e.g.
    a memory map) one at a time and widened to float64 as they are added."""
    width = vectors.shape[1]
    for k in range(len(rows)):
        entries = 0
        for p in range(starts[k], ends[k]):
            entries += times[p] if counted else 1
        if entries == 0:
            continue
        weight = 1.0 / entries
        row = rows[k]
        for p in range(starts[k], ends[k]):
            word = words[p]
            for _ in range(times[p] if counted else 1):
                for j in range(width):
                    out[row, j] += weight * np.float64(vectors[word, j])


@numba.njit(nogil=True, cache=True)
def ordered_dots(columns, queries, out):
    """out[q, i] = Σ_j queries[q, j] · columns[j, i], float64, added in order of j.

    `columns` (d, n) C-contiguous. The value of a dot depends on its two vectors only, not on
    its position or the batch (a BLAS product may round equal columns differently), and the
    loop runs a block of columns over all queries while it is in cache."""
    width, n = columns.shape
    acc = np.empty(_BLOCK)
    for start in range(0, n, _BLOCK):
        stop = min(start + _BLOCK, n)
        m = stop - start
        for q in range(queries.shape[0]):
            acc[:m] = 0.0
            for j in range(width):
                x = queries[q, j]
                column = columns[j, start:stop]
                for i in range(m):
                    acc[i] += x * column[i]
            out[q, start:stop] = acc[:m]


@numba.njit(nogil=True, cache=True)
def gathered_dots(rows, queries, picks, out):
    """out[q, i] = Σ_j queries[q, j] · rows[picks[q, i], j], float64, added in order of j: the
    values of `ordered_dots`, for some rows of each query, read where they lie (no gathered
    copy). Four rows at a time, each its own chain of sums."""
    width, k = rows.shape[1], picks.shape[1]
    for q in range(picks.shape[0]):
        i = 0
        while i < k:
            r0, r1 = picks[q, i], picks[q, min(i + 1, k - 1)]
            r2, r3 = picks[q, min(i + 2, k - 1)], picks[q, min(i + 3, k - 1)]
            s0 = s1 = s2 = s3 = 0.0
            for j in range(width):
                x = queries[q, j]
                s0 += x * rows[r0, j]
                s1 += x * rows[r1, j]
                s2 += x * rows[r2, j]
                s3 += x * rows[r3, j]
            out[q, i] = s0
            if i + 1 < k:
                out[q, i + 1] = s1
            if i + 2 < k:
                out[q, i + 2] = s2
            if i + 3 < k:
                out[q, i + 3] = s3
            i += 4


@numba.njit(nogil=True, cache=True)
def column_moments(rows):
    """(mean, std) float64 (d,) of each column of `rows` (n, d), n > 0: the values of numpy's
    `mean(axis=0, dtype=float64)` and `std(axis=0, dtype=float64)`, which add the rows one after
    another, in two passes over `rows` and no (n, d) float64 temporary."""
    n, width = rows.shape
    total = np.zeros(width)
    for i in range(n):
        for j in range(width):
            total[j] += np.float64(rows[i, j])
    mean = total / n
    squares = np.zeros(width)
    for i in range(n):
        for j in range(width):
            deviation = np.float64(rows[i, j]) - mean[j]
            squares[j] += deviation * deviation
    return mean, np.sqrt(squares / n)
