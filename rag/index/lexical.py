"""BM25 over jieba tokens, scored with a sparse matrix so filters apply before ranking."""

from __future__ import annotations

import logging
import re
from collections.abc import Callable, Sequence
from functools import lru_cache

import numpy as np
from scipy import sparse

_WORD = re.compile(r"[\w\u4e00-\u9fff%．.]+")
_STOP = set(
    "的 了 和 与 及 等 在 是 为 对 把 被 将 并 或 而 中 上 下 个 年 我们"
    " 全 各 其 以 之 这 那 有 也 就 都"
    " 哪些 哪个 什么 多少 如何 怎么 是否 吗 呢 请 问".split()
)


@lru_cache(maxsize=3)
def _jieba(mode: str) -> Callable[[str], list]:
    """jieba's ``mode`` — "cut" (precise: each character in one word), "cut_for_search"
    or "tag" (words with their part of speech): jieba-rs's (same dictionary, ~10x faster),
    else jieba's."""
    try:
        import rjieba

        return getattr(rjieba, mode)
    except ImportError:
        import jieba
        import jieba.posseg

        jieba.setLogLevel(logging.WARNING)
        jieba.initialize()
        if mode == "tag":
            return lambda text: [(p.word, p.flag) for p in jieba.posseg.cut(text)]
        cut = getattr(jieba, mode)
        return lambda text: list(cut(text))


def segments(text: str) -> list[str]:
    """Precise-mode jieba words of ``text``, punctuation and spaces included: they tile it."""
    return _jieba("cut")(text)


def tagged(text: str) -> list[tuple[str, str]]:
    """Precise-mode jieba words of ``text`` with their part of speech ("t": a time word)."""
    return [(w, f) for w, f in _jieba("tag")(text) if w.strip()]


def words(text: str) -> list[str]:
    """Precise-mode jieba words of ``text``, punctuation and spaces left out."""
    return [w for w in segments(text) if w.strip() and _WORD.fullmatch(w.strip().lower())]


def tokenize(text: str) -> list[str]:
    """Search-mode jieba tokens, lowercased, without punctuation and stop words."""
    out = []
    for tok in _jieba("cut_for_search")(text.lower()):
        tok = tok.strip()
        if not tok or tok in _STOP or not _WORD.fullmatch(tok):
            continue
        out.append(tok)
    return out


class BM25Index:
    """Okapi BM25 (k1=1.2, b=0.75) over a list of tokenized chunks.

    Keeps each entry's raw term count beside its weight, so that :meth:`replace` can drop
    and add chunks (a re-ingested report) without re-reading the others: weights depend on
    corpus-wide statistics (document frequency, mean length) and are recomputed from counts.
    """

    def __init__(self, ids: Sequence[str], token_lists: Sequence[Sequence[str]], k1=1.2, b=0.75):
        self.k1, self.b = k1, b
        self.vocab: dict[str, int] = {}
        self._finish(list(ids), self._counts(token_lists))

    def _counts(self, token_lists: Sequence[Sequence[str]]) -> sparse.csr_matrix:
        """Term counts (rows = chunks), growing the vocabulary with new terms."""
        vocab = self.vocab
        lengths = np.fromiter((len(t) for t in token_lists), dtype=np.int64,
                              count=len(token_lists))
        # One flat pass (term ids), then numpy: ~5x faster than counting per chunk.
        cols = np.fromiter(
            (vocab.setdefault(t, len(vocab)) for toks in token_lists for t in toks),
            dtype=np.int64, count=int(lengths.sum()),
        )
        rows = np.repeat(np.arange(len(token_lists), dtype=np.int64), lengths)
        tf = sparse.csr_matrix(
            (np.ones(cols.size, dtype=np.float32), (rows, cols)),
            shape=(len(token_lists), max(1, len(vocab))),
        )
        tf.sum_duplicates()
        return tf

    def _finish(self, ids: list[str], tf: sparse.csr_matrix) -> None:
        """Set ids and BM25 weights from term counts."""
        k1, b = self.k1, self.b
        self.ids = ids
        self._pos = {cid: i for i, cid in enumerate(ids)}
        n = len(ids)
        lengths = np.asarray(tf.sum(axis=1), dtype=np.float32).ravel()
        # Column-major: a query reads a few term columns.
        tfc = tf.tocsc()
        tfc.sort_indices()
        df = np.diff(tfc.indptr)
        self.idf = np.log1p((n - df + 0.5) / (df + 0.5)).astype(np.float32)
        avg = float(lengths.mean()) if n else 1.0
        norm = (k1 * (1 - b + b * lengths / max(avg, 1e-6))).astype(np.float32)
        counts = tfc.data.astype(np.float32)
        weighted = counts * (k1 + 1) / (counts + norm[tfc.indices])
        self._w = sparse.csc_matrix((weighted, tfc.indices, tfc.indptr), shape=tfc.shape)
        self._tf = np.minimum(counts, np.iinfo(np.uint16).max).astype(np.uint16)

    def replace(
        self, keep: np.ndarray, ids: Sequence[str], token_lists: Sequence[Sequence[str]]
    ) -> BM25Index:
        """A new index: the entries where ``keep`` is true, then ``ids`` with their tokens.

        Cost is proportional to the index's stored counts, not to re-tokenizing or
        re-reading the kept chunks. The old index is left unchanged (readers may hold it).
        """
        new = BM25Index.__new__(BM25Index)
        new.k1, new.b = self.k1, self.b
        new.vocab = dict(self.vocab)
        old = sparse.csc_matrix(
            (self._tf.astype(np.float32), self._w.indices, self._w.indptr), shape=self._w.shape
        ).tocsr()[np.asarray(keep, dtype=bool)]
        added = new._counts(token_lists)
        width = max(old.shape[1], added.shape[1])
        old.resize((old.shape[0], width))
        added.resize((added.shape[0], width))
        kept_ids = [cid for cid, k in zip(self.ids, keep, strict=True) if k]
        new._finish(kept_ids + list(ids), sparse.vstack([old, added], format="csr"))
        return new

    def __len__(self) -> int:
        return len(self.ids)

    def scores(self, query_tokens: Sequence[str]) -> np.ndarray:
        terms = [self.vocab[t] for t in dict.fromkeys(query_tokens) if t in self.vocab]
        out = np.zeros(len(self.ids), dtype=np.float32)
        for j in terms:
            col = self._w.getcol(j)
            out[col.indices] += col.data * self.idf[j]
        return out

    def has_all(self, tokens: Sequence[str], candidates: Sequence[str] | None = None) -> bool:
        """Whether some chunk (of ``candidates``, default any) holds every one of ``tokens``.

        Posting lists are intersected rarest first, by binary search in the longer ones
        (sorted): a few milliseconds at 236k chunks.
        """
        found = [self.vocab.get(t) for t in dict.fromkeys(tokens)]
        cols = [j for j in found if j is not None]
        if not cols or len(cols) < len(found):
            return False
        ptr = self._w.indptr
        postings = sorted((self._w.indices[ptr[j] : ptr[j + 1]] for j in cols), key=len)
        rows = postings[0]
        if candidates is not None:
            allowed = np.fromiter((self._pos[c] for c in candidates if c in self._pos),
                                  dtype=np.int64)
            rows = rows[np.isin(rows, allowed)]
        for col in postings[1:]:
            if rows.size == 0:
                return False
            at = np.minimum(np.searchsorted(col, rows), len(col) - 1)
            rows = rows[col[at] == rows]
        return rows.size > 0

    def search(
        self, query_tokens: Sequence[str], candidates: Sequence[str] | None, k: int
    ) -> list[tuple[str, float]]:
        s = self.scores(query_tokens)
        if candidates is not None:
            idx = np.fromiter((self._pos[c] for c in candidates if c in self._pos), dtype=np.int64)
        else:
            idx = np.arange(len(self.ids))
        if idx.size == 0:
            return []
        sub = s[idx]
        keep = sub > 0
        idx, sub = idx[keep], sub[keep]
        order = np.argsort(-sub)[:k]
        return [(self.ids[idx[i]], float(sub[i])) for i in order]
