"""How alike two citizens' messages read: TF-IDF over character 2–3-grams of
the whole document and jieba words of its title (the understanding's own text
features; segmenting only the titles keeps 10,000 messages to seconds), cosine
similarity, and the
pairs above a floor found block by block so that 10,000 messages never need a
10,000 × 10,000 matrix in memory."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from call_routing.classifier import chars, words

BLOCK = 1024  # rows compared at once: a BLOCK × n slice of scores at a time


def text_vectors(documents: Sequence[str], titles: Sequence[str]):  # noqa: ANN201 (CSR)
    """One L2-normalised row per document; a word or n-gram found in more than
    half of them says nothing about which belong together and is left out."""
    from scipy.sparse import hstack
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.preprocessing import normalize

    if not documents:
        return np.zeros((0, 0))
    many = len(documents) >= 200  # in fewer, one hotspot may be most of them
    grams = TfidfVectorizer(
        analyzer="char",
        ngram_range=(2, 3),
        preprocessor=chars,
        sublinear_tf=True,
        max_df=0.5 if many else 1.0,
        dtype=np.float32,
    )
    terms = TfidfVectorizer(
        analyzer=words,
        sublinear_tf=True,
        max_df=0.5 if many else 1.0,
        dtype=np.float32,
    )
    blocks = []
    for vectoriser, texts in ((grams, documents), (terms, titles)):
        try:
            blocks.append(vectoriser.fit_transform(texts))
        except ValueError:  # nothing left to count (every document empty or common)
            continue
    if not blocks:
        from scipy.sparse import csr_matrix

        return csr_matrix((len(documents), 1), dtype=np.float32)
    return normalize(hstack(blocks).tocsr())


def similar_pairs(vectors, floor: float) -> list[tuple[int, int, float]]:  # noqa: ANN001
    """Every pair ``(i, j, cosine)`` with ``i < j`` whose cosine is at least ``floor``."""
    pairs: list[tuple[int, int, float]] = []
    n = vectors.shape[0]
    transposed = vectors.T.tocsc()
    for start in range(0, n, BLOCK):
        scores = (vectors[start : start + BLOCK] @ transposed).toarray()
        rows, cols = np.nonzero(scores >= floor)
        for row, col in zip(rows.tolist(), cols.tolist(), strict=True):
            i = start + row
            if i < col:
                pairs.append((i, col, float(scores[row, col])))
    return pairs


def pair_cosines(vectors, pairs: Sequence[tuple[int, int]]) -> list[float]:  # noqa: ANN001
    """The cosine of each pair of rows (the rows are L2-normalised)."""
    if not pairs:
        return []
    left = vectors[[i for i, _ in pairs]]
    right = vectors[[j for _, j in pairs]]
    return np.asarray(left.multiply(right).sum(axis=1)).ravel().astype(float).tolist()
