"""The non-matmul steps of the bf16 e5 encoder: attention, bias + GELU, residual LayerNorm.

Two implementations with one interface. :class:`CKernels` runs ``e5_kernels.c``, compiled
once per machine (``-O3 -march=native``) into the weight cache and loaded with ctypes;
:class:`TorchOps` does the same with torch operators, for machines without a C compiler.
Both work in place on the encoder's buffers: ``qkv``, ``ctx``, ``mid``, ``proj`` are bf16
``[rows, width]``, ``x`` is the fp32 residual stream and ``xb`` its bf16 copy.

ctypes releases the GIL during a call, so with ``threads > 1`` the kernels run on slices of
the batch in a thread pool, beside torch's own threads for the matmuls.
"""

from __future__ import annotations

import ctypes
import hashlib
import logging
import os
import platform
import shutil
import subprocess
import tempfile
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import torch
import torch.nn.functional as F

from rag.errors import EmbeddingError

log = logging.getLogger(__name__)

SOURCE = Path(__file__).with_name("e5_kernels.c")
HEAD_DIM = 32  # the head size e5_kernels.c is written for
CFLAGS = (
    "-O3",
    "-march=native",
    "-fno-math-errno",
    "-fno-trapping-math",
    "-fno-signed-zeros",
    "-fassociative-math",
    "-shared",
    "-fPIC",
)


def _cpu_identity() -> str:
    """Model and feature flags of this CPU: ``-march=native`` code is only valid on its like."""
    try:
        lines = Path("/proc/cpuinfo").read_text().splitlines()
    except OSError:
        return platform.machine() + platform.processor()
    keep = [ln for ln in lines if ln.startswith(("model name", "flags", "Features"))]
    return "\n".join(sorted(set(keep))) or platform.machine()


def _compiler() -> str | None:
    return next((c for c in (os.environ.get("CC"), "cc", "gcc") if c and shutil.which(c)), None)


def library_path(cache_dir: Path, compiler: str) -> Path:
    """Where the library for this source, compiler, flags and CPU lives in ``cache_dir``."""
    try:
        version = subprocess.run(
            [compiler, "--version"], capture_output=True, text=True, timeout=30
        ).stdout
    except (OSError, subprocess.SubprocessError):
        version = ""
    key = hashlib.sha256()
    for part in (
        SOURCE.read_bytes(),
        " ".join(CFLAGS).encode(),
        version.encode(),
        _cpu_identity().encode(),
    ):
        key.update(part)
        key.update(b"\0")
    return cache_dir / f"e5_kernels-{key.hexdigest()[:16]}.so"


def build_library(cache_dir: Path) -> Path:
    """Path of the compiled kernels, compiling them first if this machine has none yet.

    Raises:
        EmbeddingError: No C compiler, or the compilation failed.
    """
    cc = _compiler()
    if cc is None:
        raise EmbeddingError("no C compiler (cc or gcc) to build the fast e5 kernels")
    lib = library_path(cache_dir, cc)
    if lib.is_file():
        return lib
    cache_dir.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=cache_dir, suffix=".so.tmp")
    os.close(fd)
    try:
        done = subprocess.run(
            [cc, *CFLAGS, str(SOURCE), "-o", tmp, "-lm"],
            capture_output=True,
            text=True,
            timeout=300,
        )
        if done.returncode != 0:
            raise EmbeddingError(f"compiling {SOURCE.name} failed: {done.stderr.strip()[-500:]}")
        os.replace(tmp, lib)  # atomic: a concurrent builder never loads half a file
    except (OSError, subprocess.SubprocessError) as exc:
        raise EmbeddingError(f"cannot compile {SOURCE.name}: {exc}") from exc
    finally:
        Path(tmp).unlink(missing_ok=True)
    return lib


def _ptr(t: torch.Tensor) -> int:
    return t.data_ptr()


def _slices(n: int, parts: int) -> list[tuple[int, int]]:
    step = -(-n // parts)
    return [(a, min(a + step, n)) for a in range(0, n, step)]


class CKernels:
    """``e5_kernels.c`` through ctypes; every tensor must be contiguous and of its dtype."""

    name = "c"

    def __init__(self, path: Path, threads: int = 1) -> None:
        lib = ctypes.CDLL(str(path))
        p, i, f = ctypes.c_void_p, ctypes.c_int, ctypes.c_float
        lib.e5_attention.argtypes = [p, p, p, p, i, i, i, i, f]
        lib.e5_attention.restype = i
        lib.e5_add_layernorm.argtypes = [p, p, p, p, p, i, i, f, p]
        lib.e5_add_layernorm.restype = None
        lib.e5_bias_gelu.argtypes = [p, p, i, i]
        lib.e5_bias_gelu.restype = None
        self._lib = lib
        self.path = path
        self.threads = threads
        self._pool = ThreadPoolExecutor(threads, "e5-kernels") if threads > 1 else None

    def _run(self, fn, n: int) -> None:
        """fn(start, stop) over [0, n), split across the pool when there is one."""
        if self._pool is None or n < 2:
            fn(0, n)
            return
        for fut in [self._pool.submit(fn, a, b) for a, b in _slices(n, self.threads)]:
            fut.result()

    def attention(
        self,
        qkv: torch.Tensor,
        bias: torch.Tensor,
        ctx: torch.Tensor,
        lens: torch.Tensor,
        lmax: int,
        heads: int,
    ) -> None:
        """ctx = softmax(q k^T / sqrt(d)) v per sequence and head, q|k|v = qkv + bias."""
        width, hd = qkv.shape[1], ctx.shape[1] // heads
        scale = hd**-0.5

        def part(a: int, b: int) -> None:
            rows = a * lmax
            rc = self._lib.e5_attention(
                _ptr(qkv) + rows * width * 2,
                _ptr(bias),
                _ptr(ctx) + rows * ctx.shape[1] * 2,
                _ptr(lens) + a * 4,
                b - a,
                lmax,
                heads,
                hd,
                scale,
            )
            if rc != 0:
                raise EmbeddingError("fast e5 attention kernel failed (head size or memory)")

        self._run(part, lens.shape[0])

    def add_layernorm(
        self,
        x: torch.Tensor,
        y: torch.Tensor | None,
        ybias: torch.Tensor | None,
        w: torch.Tensor,
        b: torch.Tensor,
        eps: float,
        xb: torch.Tensor,
    ) -> None:
        """x = LayerNorm(x + y + ybias) (or of x alone), xb = bf16(x)."""
        h = x.shape[1]

        def part(a: int, c: int) -> None:
            self._lib.e5_add_layernorm(
                _ptr(x) + a * h * 4,
                None if y is None else _ptr(y) + a * h * 2,
                None if ybias is None else _ptr(ybias),
                _ptr(w),
                _ptr(b),
                c - a,
                h,
                eps,
                _ptr(xb) + a * h * 2,
            )

        self._run(part, x.shape[0])

    def bias_gelu(self, y: torch.Tensor, bias: torch.Tensor) -> None:
        """y = GELU(y + bias), erf form."""
        m = y.shape[1]

        def part(a: int, b: int) -> None:
            self._lib.e5_bias_gelu(_ptr(y) + a * m * 2, _ptr(bias), b - a, m)

        self._run(part, y.shape[0])


class TorchOps:
    """The same steps in torch operators (slower: more passes and temporaries)."""

    name = "torch"

    def attention(
        self,
        qkv: torch.Tensor,
        bias: torch.Tensor,
        ctx: torch.Tensor,
        lens: torch.Tensor,
        lmax: int,
        heads: int,
    ) -> None:
        b, width = lens.shape[0], qkv.shape[1]
        hd = width // 3 // heads
        qkv.add_(bias.to(qkv.dtype))
        q, k, v = qkv.view(b, lmax, 3, heads, hd).permute(2, 0, 3, 1, 4)
        valid = torch.arange(lmax)[None, :] < lens[:, None]
        keep = None if bool(valid.all()) else valid.view(b, 1, 1, lmax)
        out = F.scaled_dot_product_attention(q, k, v, attn_mask=keep)
        ctx.copy_(out.transpose(1, 2).reshape(ctx.shape))

    def add_layernorm(
        self,
        x: torch.Tensor,
        y: torch.Tensor | None,
        ybias: torch.Tensor | None,
        w: torch.Tensor,
        b: torch.Tensor,
        eps: float,
        xb: torch.Tensor,
    ) -> None:
        if y is not None:
            x.add_(y)
            if ybias is not None:
                x.add_(ybias)
        x.copy_(F.layer_norm(x, (x.shape[1],), w, b, eps))
        xb.copy_(x)

    def bias_gelu(self, y: torch.Tensor, bias: torch.Tensor) -> None:
        torch.ops.aten.gelu_(y.add_(bias.to(y.dtype)))


def load_ops(cache_dir: Path, threads: int = 1) -> CKernels | TorchOps:
    """The C kernels when they build and pass a check against torch here, else torch ops."""
    try:
        path = build_library(cache_dir)
        try:
            kernels = CKernels(path, threads)
        except OSError:  # a torn or foreign file under our name: build it again, once
            path.unlink(missing_ok=True)
            kernels = CKernels(build_library(cache_dir), threads)
        _self_check(kernels)
        return kernels
    except (EmbeddingError, OSError) as exc:
        log.warning("fast e5: C kernels unavailable (%s); using torch operators", exc)
        return TorchOps()


def _self_check(kernels: CKernels) -> None:
    """A few rows through both implementations: a miscompiled kernel is never used."""
    gen = torch.Generator().manual_seed(0)
    heads, h, lens = 2, 2 * HEAD_DIM, torch.tensor([5, 3], dtype=torch.int32)
    lmax, rows = 5, 10
    qkv = torch.randn(rows, 3 * h, generator=gen).bfloat16()
    bias = torch.randn(3 * h, generator=gen)
    x = torch.randn(rows, h, generator=gen)
    y = torch.randn(rows, 4 * h, generator=gen).bfloat16()
    valid = torch.tensor([0, 1, 2, 3, 4, 5, 6, 7])  # rows 8 and 9 pad the second sequence
    outs = []
    for ops in (kernels, TorchOps()):
        ctx, xx, xb, yy = torch.zeros(rows, h).bfloat16(), x.clone(), x.bfloat16(), y.clone()
        ops.attention(qkv.clone(), bias, ctx, lens, lmax, heads)
        ops.add_layernorm(xx, ctx, bias[:h], bias[h : 2 * h], bias[2 * h :], 1e-12, xb)
        ops.bias_gelu(yy, bias.repeat(2)[: 4 * h])
        outs.append((ctx[valid].float(), xx[valid], xb[valid].float(), yy.float()))
    for ours, ref in zip(*outs, strict=True):
        if not torch.allclose(ours, ref, rtol=0.02, atol=0.02):
            err = float((ours - ref).abs().max())
            raise EmbeddingError(f"C kernels disagree with torch (max error {err:.3g})")
