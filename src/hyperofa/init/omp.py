"""`omp`: Orthogonal Matching Pursuit (Goddard & Fernandes Neto 2025, arXiv 2506.06607; mergekit
`tokensurgeon/omp.py::batch_omp`) — a new token's vector is approximated by at most k shared
tokens' vectors; the same coefficients applied to their source rows give its row.

OMP as tokensurgeon and scikit-learn run it: each step adds the atom with the largest |⟨residual,
atom⟩| (raw atoms, not normalized; the products in float32, as tokensurgeon's), then the
coefficients are the float64 least-squares fit on the chosen atoms. Coefficients are unconstrained. Where the fit is exact before k atoms (k > the vectors'
dim) or the best atom is linearly dependent on the chosen ones, a row stops early: scikit-learn
keeps adding atoms until the dependence is below machine precision and tokensurgeon clamps the
norm, both fitting noise with large cancelling coefficients there.

Spaces (`OMPConfig.space`):
- word_vectors: OFA's token vectors (`match.token_vectors`); new tokens with matched words are
  the queries; anchors are the source tokens with matched words that a target token copies.
- static: FOCUS's fastText token space (as `focus`: new tokens with a static vector; anchors are
  the shared target tokens with one).
Held-out view: a source token's vector against the other source tokens (word space), or as `focus`
(static space).
"""

from __future__ import annotations

import numpy as np

from hyperofa.config.enums import AnchorSpace
from hyperofa.config.initializers import OMPConfig
from hyperofa.errors import IncompatibleInputsError
from hyperofa.init.base import InitInputs
from hyperofa.init.focus import heldout_static_queries, static_anchors, static_of
from hyperofa.match import token_vectors
from hyperofa.vocab.copy import CopyKind

DEPENDENT = 1e-10  # an atom whose part orthogonal to the chosen ones is this small (relative)
EXACT_FIT = 1e-12  # a residual this small (relative to the query) needs no more atoms
BLOCK = 1 << 24  # floats in a (queries × atoms) correlation block


def omp(queries: np.ndarray, atoms: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
    """OMP of each query (q, d) over `atoms` (a, d) with at most k atoms.

    Returns (support, coefficients), int64 and float64 (q, k'), k' = min(k, a): the chosen atoms
    in order of choice (-1 past a row's early stop) and their least-squares coefficients (0 there).
    """
    atoms = np.asarray(atoms, dtype=np.float64)
    k, atoms32 = min(k, len(atoms)), atoms.astype(np.float32)
    chunk = max(1, min(1_024, BLOCK // max(len(atoms), 1)))
    parts = [
        _omp_block(queries[s : s + chunk], atoms, atoms32, k) for s in range(0, len(queries), chunk)
    ]
    if not parts:
        return np.zeros((0, k), dtype=np.int64), np.zeros((0, k))
    return np.concatenate([p[0] for p in parts]), np.concatenate([p[1] for p in parts])


def _best_atoms(residual: np.ndarray, atoms32: np.ndarray, chosen: np.ndarray) -> np.ndarray:
    """Each row's atom of largest |⟨residual, atom⟩| among those not `chosen` (n, t), from float32
    products, as tokensurgeon's (the products dominate the cost; the fit stays float64)."""
    corr = residual.astype(np.float32) @ atoms32.T
    np.put_along_axis(corr, chosen, 0.0, axis=1)
    rows, hi, lo = np.arange(len(corr)), corr.argmax(axis=1), corr.argmin(axis=1)
    return np.where(corr[rows, hi] >= -corr[rows, lo], hi, lo)  # argmax |corr| without |·|


def _omp_block(
    queries: np.ndarray, atoms: np.ndarray, atoms32: np.ndarray, k: int
) -> tuple[np.ndarray, np.ndarray]:
    y = np.asarray(queries, dtype=np.float64)
    n = len(y)
    support = np.full((n, k), -1, dtype=np.int64)
    basis = np.zeros((n, k, y.shape[1]))  # orthonormal, Gram–Schmidt of the chosen atoms
    residual, active = y.copy(), np.ones(n, dtype=bool)
    scale, atom_norms = np.linalg.norm(y, axis=1), np.linalg.norm(atoms, axis=1)
    for t in range(k):
        pick = _best_atoms(residual, atoms32, np.maximum(support[:, :t], 0))
        u = atoms[pick]
        for _ in range(2):  # twice: Gram–Schmidt keeps the basis orthogonal to rounding
            u = u - np.einsum("ntd,nt->nd", basis[:, :t], np.einsum("ntd,nd->nt", basis[:, :t], u))
        norm = np.linalg.norm(u, axis=1)
        active &= (norm > DEPENDENT * atom_norms[pick]) & (
            np.linalg.norm(residual, axis=1) > EXACT_FIT * scale
        )
        support[active, t] = pick[active]
        basis[active, t] = u[active] / norm[active, None]
        residual -= np.einsum("nd,n->nd", basis[:, t], np.einsum("nd,nd->n", basis[:, t], y))
    return support, _coefficients(y, atoms, support, basis)


def _coefficients(y, atoms, support, basis) -> np.ndarray:
    """Least squares on each row's chosen atoms: solve R c = Qᵀy, R = Qᵀ·atoms (triangular);
    unused slots get R's diagonal 1 and right-hand side 0, hence coefficient 0."""
    chosen = atoms[np.maximum(support, 0)] * (support >= 0)[..., None]  # (n, k, d)
    r = np.einsum("ntd,nsd->nts", basis, chosen)
    unused = support < 0
    r[:, np.arange(support.shape[1]), np.arange(support.shape[1])] += unused
    rhs = np.einsum("ntd,nd->nt", basis, y)
    return np.linalg.solve(r, rhs[..., None])[..., 0]


class OMPInitializer:
    name = "omp"

    def __init__(self, cfg: OMPConfig):
        self.k, self.space, self.weighting = cfg.k, cfg.space, str(cfg.word_weighting)

    def covers(self, inputs: InitInputs) -> np.ndarray:
        new = inputs.copy.kind == CopyKind.NONE
        if self.space == AnchorSpace.static:
            return static_of(inputs).known & new
        return inputs.target_words.covered() & new

    def fill(self, inputs: InitInputs, token_ids: np.ndarray) -> np.ndarray:
        if self.space == AnchorSpace.static:
            static = static_of(inputs)
            anchors = static_anchors(inputs.copy, static.known)
            rows = inputs.source_rows[inputs.copy.source_id[anchors]]
            return self._rows(static.vectors[token_ids], static.vectors[anchors], rows)
        copied = inputs.copy.kind != CopyKind.NONE
        anchors = self._word_anchors(inputs, np.unique(inputs.copy.source_id[copied]))
        queries = token_vectors(inputs.target_words, inputs.word_vectors, self.weighting, token_ids)
        return self._rows(queries, self._vectors(inputs, anchors), inputs.source_rows[anchors])

    def heldout(self, inputs: InitInputs, source_ids: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        rows = np.zeros((len(source_ids), inputs.source_rows.shape[1]), dtype=np.float32)
        if self.space == AnchorSpace.static:
            static = static_of(inputs)
            queries, covered = heldout_static_queries(inputs, source_ids)
            anchors = static_anchors(inputs.copy, static.known, excluded=source_ids)
            anchor_rows = inputs.source_rows[inputs.copy.source_id[anchors]]
            if covered.any():
                rows[covered] = self._rows(
                    static.vectors[queries], static.vectors[anchors], anchor_rows
                )
            return rows, covered
        others = np.setdiff1d(np.arange(len(inputs.source_rows)), source_ids)
        anchors = self._word_anchors(inputs, others)
        covered = inputs.source_words.covered()[source_ids]
        queries = self._vectors(inputs, source_ids[covered])
        rows[covered] = self._rows(
            queries, self._vectors(inputs, anchors), inputs.source_rows[anchors]
        )
        return rows, covered

    def _word_anchors(self, inputs: InitInputs, source_ids: np.ndarray) -> np.ndarray:
        """Those of `source_ids` with a row and matched words."""
        source_ids = source_ids[(source_ids >= 0) & (source_ids < len(inputs.source_rows))]
        source_ids = source_ids[source_ids < inputs.source_words.num_tokens]
        return source_ids[inputs.source_words.covered()[source_ids]]

    def _vectors(self, inputs: InitInputs, source_ids: np.ndarray) -> np.ndarray:
        return token_vectors(inputs.source_words, inputs.word_vectors, self.weighting, source_ids)

    def _rows(self, queries: np.ndarray, atoms: np.ndarray, atom_rows: np.ndarray) -> np.ndarray:
        if len(atoms) == 0:
            raise IncompatibleInputsError(f"omp ({self.space}): no shared token to combine")
        support, coef = omp(queries, atoms, self.k)
        picked = atom_rows[np.maximum(support, 0)].astype(np.float64)
        return np.einsum("nk,nkd->nd", coef, picked).astype(np.float32)
