"""BM25 over jieba tokens, scored with a sparse matrix so filters apply before ranking."""

from __future__ import annotations

import logging
import re
from collections.abc import Sequence
from functools import lru_cache

import numpy as np
from scipy import sparse

_WORD = re.compile(r"[\w\u4e00-\u9fff%．.]+")
_STOP = set(
    "的 了 和 与 及 等 在 是 为 对 把 被 将 并 或 而 中 上 下 个 年 我们"
    " 全 各 其 以 之 这 那 有 也 就 都"
    " 哪些 哪个 什么 多少 如何 怎么 是否 吗 呢 请 问".split()
)


@lru_cache(maxsize=1)
def _cut_for_search():
    """jieba's search-mode segmentation: jieba-rs (same dictionary, ~10x faster) or jieba."""
    try:
        import rjieba

        return rjieba.cut_for_search
    except ImportError:
        import jieba

        jieba.setLogLevel(logging.WARNING)
        jieba.initialize()
        return lambda text: list(jieba.cut_for_search(text))


def tokenize(text: str) -> list[str]:
    """Search-mode jieba tokens, lowercased, without punctuation and stop words."""
    out = []
    for tok in _cut_for_search()(text.lower()):
        tok = tok.strip()
        if not tok or tok in _STOP or not _WORD.fullmatch(tok):
            continue
        out.append(tok)
    return out


class BM25Index:
    """Okapi BM25 (k1=1.2, b=0.75) over a fixed list of tokenized chunks."""

    def __init__(self, ids: Sequence[str], token_lists: Sequence[Sequence[str]], k1=1.2, b=0.75):
        self.ids = list(ids)
        self._pos = {cid: i for i, cid in enumerate(self.ids)}
        vocab: dict[str, int] = {}
        lengths = np.fromiter((len(t) for t in token_lists), dtype=np.int64, count=len(self.ids))
        # One flat pass (term ids), then numpy: ~5x faster than counting per chunk.
        cols = np.fromiter(
            (vocab.setdefault(t, len(vocab)) for toks in token_lists for t in toks),
            dtype=np.int64, count=int(lengths.sum()),
        )
        rows = np.repeat(np.arange(len(self.ids), dtype=np.int64), lengths)
        self.vocab = vocab
        n, v = len(self.ids), max(1, len(vocab))
        tf = sparse.csr_matrix(
            (np.ones(cols.size, dtype=np.float32), (rows, cols)), shape=(n, v)
        )
        tf.sum_duplicates()
        df = np.diff(tf.tocsc().indptr)
        self.idf = np.log1p((n - df + 0.5) / (df + 0.5)).astype(np.float32)
        avg = float(lengths.mean()) if n else 1.0
        norm = (k1 * (1 - b + b * lengths / max(avg, 1e-6))).astype(np.float32)
        tf = tf.tocoo()
        weighted = tf.data * (k1 + 1) / (tf.data + norm[tf.row])
        # Column-major: a query reads a few term columns.
        self._w = sparse.csc_matrix((weighted, (tf.row, tf.col)), shape=tf.shape)

    def __len__(self) -> int:
        return len(self.ids)

    def scores(self, query_tokens: Sequence[str]) -> np.ndarray:
        terms = [self.vocab[t] for t in dict.fromkeys(query_tokens) if t in self.vocab]
        out = np.zeros(len(self.ids), dtype=np.float32)
        for j in terms:
            col = self._w.getcol(j)
            out[col.indices] += col.data * self.idf[j]
        return out

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
