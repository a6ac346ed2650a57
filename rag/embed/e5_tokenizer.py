"""SentencePiece-unigram tokenizer of the bundled e5, token for token as ``e5.c``."""

from __future__ import annotations

import re
from collections import OrderedDict

import numpy as np

QUERY_PREFIX = "query: "
PASSAGE_PREFIX = "passage: "
_META = "\u2581"  # SentencePiece's metaspace
_SPACES = re.compile(" {2,}")


class E5Tokenizer:
    """SentencePiece-unigram tokenizer reproducing ``tok_content`` in e5.c token for token."""

    def __init__(self, vocab: dict, max_cache: int = 8192) -> None:
        blob = vocab["blob"].numpy().tobytes()
        offs = vocab["offs"].tolist()
        self.bos, self.eos, self.pad, self.unk = vocab["special"].tolist()
        scores = vocab["scores"].numpy().astype(np.float32)
        # float32 scalars keep the Viterbi sums bit-identical to the C float arithmetic
        self._scores = [np.float32(s) for s in scores]
        self._unk_score = np.float32(scores.min()) - np.float32(10.0)
        self._neg = np.float32(-1e30)
        # one dict: piece -> id; proper prefixes of pieces -> -1 (lets the scan stop early,
        # which only skips lookups that e5.c would also find empty)
        table: dict[str, int] = {}
        for i in range(len(offs) - 1):
            a, b = offs[i], offs[i + 1]
            if b == a or i == self.unk:
                continue  # e5.c never matches empty pieces or <unk>
            piece = blob[a:b].decode("utf-8", "surrogateescape")
            if table.get(piece, -1) < 0:
                table[piece] = i
            for k in range(1, len(piece)):
                table.setdefault(piece[:k], -1)
        self._table = table
        cps, off, out = vocab["norm_cp"].tolist(), vocab["norm_off"].tolist(), vocab["norm_out"]
        out = out.tolist()
        self._norm = {cp: "".join(map(chr, out[off[i] : off[i + 1]])) for i, cp in enumerate(cps)}
        self._cache: OrderedDict[str, list[int]] = OrderedDict()
        self._max_cache = max_cache

    def normalize(self, text: str) -> str:
        """Normalization map, space-run collapse and metaspace, as in e5.c."""
        cut = text.find("\x00")  # the C engine reads a NUL-terminated string
        if cut >= 0:
            text = text[:cut]
        text = _SPACES.sub(" ", text.translate(self._norm))
        if not text.startswith(" "):
            text = " " + text
        return text.replace(" ", _META)

    def content_ids(self, text: str) -> list[int]:
        """Token ids without <s>/</s>, untruncated (e5.c windows long inputs later)."""
        hit = self._cache.get(text)
        if hit is not None:
            self._cache.move_to_end(text)
            return hit
        ids = self._viterbi(self.normalize(text))
        self._cache[text] = ids
        if len(self._cache) > self._max_cache:
            self._cache.popitem(last=False)
        return ids

    def encode(self, text: str, is_query: bool = False) -> list[int]:
        """Full ids e5_token_count would count: <s> + prefix + text + </s> (unwindowed)."""
        pfx = QUERY_PREFIX if is_query else PASSAGE_PREFIX
        return [self.bos, *self.content_ids(pfx + text), self.eos]

    def _viterbi(self, s: str) -> list[int]:
        n, table, scores, neg = len(s), self._table, self._scores, self._neg
        best = [neg] * (n + 1)
        best[0] = np.float32(0.0)
        piece = [-1] * (n + 1)
        start = [0] * (n + 1)
        for i in range(n):
            base = best[i]
            for e in range(i + 1, n + 1):
                idx = table.get(s[i:e])
                if idx is None:
                    break
                if idx >= 0:
                    sc = base + scores[idx]
                    if sc > best[e]:  # strict: the earliest candidate wins ties, as in C
                        best[e], piece[e], start[e] = sc, idx, i
            us = base + self._unk_score
            if us > best[i + 1]:
                best[i + 1], piece[i + 1], start[i + 1] = us, -1, i
        out: list[int] = []
        i = n
        while i > 0:
            out.append(self.unk if piece[i] < 0 else piece[i])
            i = start[i]
        out.reverse()
        return out
