"""The C kernels of the bf16 encoder agree with torch, split across threads, build once."""

from __future__ import annotations

import logging
import os

import pytest

torch = pytest.importorskip("torch")

from rag.embed import e5_ops  # noqa: E402
from rag.embed.e5_ops import CKernels, TorchOps, build_library, load_ops  # noqa: E402

pytestmark = pytest.mark.skipif(e5_ops._compiler() is None, reason="no C compiler")

HEADS, HD = 12, 32
H = HEADS * HD


@pytest.fixture(scope="module")
def lib_dir(tmp_path_factory: pytest.TempPathFactory):
    return tmp_path_factory.mktemp("kernels")


@pytest.fixture(scope="module")
def kernels(lib_dir) -> CKernels:
    ops = load_ops(lib_dir)
    assert isinstance(ops, CKernels)
    return ops


def _batch(lens: list[int], seed: int = 0):
    gen = torch.Generator().manual_seed(seed)
    lmax = max(lens)
    n = len(lens) * lmax
    qkv = (torch.randn(n, 3 * H, generator=gen) * 3).bfloat16()  # logits up to ~±30
    bias = torch.randn(3 * H, generator=gen)
    return qkv, bias, torch.tensor(lens, dtype=torch.int32), lmax


def _valid_rows(lens, lmax):
    return torch.cat([torch.arange(i * lmax, i * lmax + n) for i, n in enumerate(lens)])


@pytest.mark.parametrize("lens", [[1], [7, 3, 5], [130, 129, 64, 2], [512]])
def test_attention_matches_torch(kernels, lens):
    qkv, bias, lt, lmax = _batch(lens)
    ours = torch.full((qkv.shape[0], H), 7.0).bfloat16()
    theirs = torch.zeros_like(ours)
    kernels.attention(qkv.clone(), bias, ours, lt, lmax, HEADS)
    # reference in fp32 from the same bf16 inputs
    ref = qkv.float() + bias
    q, k, v = ref.view(len(lens), lmax, 3, HEADS, HD).permute(2, 0, 3, 1, 4)
    keep = (torch.arange(lmax)[None, :] < lt[:, None]).view(len(lens), 1, 1, lmax)
    out = torch.nn.functional.scaled_dot_product_attention(q, k, v, attn_mask=keep)
    theirs.copy_(out.transpose(1, 2).reshape(-1, H))
    rows = _valid_rows(lens, lmax)
    err = (ours[rows].float() - theirs[rows].float()).abs().max()
    assert err <= 0.01 * theirs[rows].float().abs().max()  # bf16 output rounding
    pad = torch.ones(qkv.shape[0], dtype=torch.bool)
    pad[rows] = False
    assert bool((ours[pad] == 0).all())  # padding rows are cleared, not left as they were


def test_layernorm_and_gelu_match_torch(kernels):
    gen = torch.Generator().manual_seed(1)
    x = torch.randn(37, H, generator=gen) * 4
    y = torch.randn(37, H, generator=gen).bfloat16()
    yb, w, b = (torch.randn(H, generator=gen) for _ in range(3))
    outs = []
    for ops in (kernels, TorchOps()):
        xx, xb = x.clone(), torch.empty(37, H, dtype=torch.bfloat16)
        ops.add_layernorm(xx, y, yb, w, b, 1e-12, xb)
        outs.append((xx, xb))
    (ours, ours_b), (ref, ref_b) = outs
    torch.testing.assert_close(ours, ref, rtol=1e-5, atol=1e-5)
    assert bool((ours_b == ours.bfloat16()).all())  # the bf16 copy is round-to-nearest-even
    m = torch.linspace(-12, 12, 3 * 1536).view(3, 1536).bfloat16()
    bias = torch.randn(1536, generator=gen)
    ours_g = m.clone()
    kernels.bias_gelu(ours_g, bias)
    ref_g = torch.nn.functional.gelu(m.float() + bias)  # exact erf GELU in fp32
    torch.testing.assert_close(ours_g.float(), ref_g, rtol=8e-3, atol=1e-6)


def test_threads_split_the_work_exactly(lib_dir, kernels):
    two = CKernels(kernels.path, threads=2)
    lens = [40, 33, 17, 40, 2]
    qkv, bias, lt, lmax = _batch(lens, seed=3)
    a, b = (torch.zeros(qkv.shape[0], H).bfloat16() for _ in range(2))
    kernels.attention(qkv, bias, a, lt, lmax, HEADS)
    two.attention(qkv, bias, b, lt, lmax, HEADS)
    assert torch.equal(a, b)
    x = torch.randn(qkv.shape[0], H)
    y = qkv[:, :H].contiguous()
    w, bb = torch.ones(H), torch.zeros(H)
    x1, x2 = x.clone(), x.clone()
    xb1, xb2 = (torch.empty(qkv.shape[0], H, dtype=torch.bfloat16) for _ in range(2))
    kernels.add_layernorm(x1, y, bias[:H], w, bb, 1e-12, xb1)
    two.add_layernorm(x2, y, bias[:H], w, bb, 1e-12, xb2)
    assert torch.equal(x1, x2) and torch.equal(xb1, xb2)


def test_library_is_built_once_and_rebuilt_when_torn(tmp_path, caplog):
    path = build_library(tmp_path)  # not loaded yet: a loaded path is never re-read
    mtime = path.stat().st_mtime_ns
    assert build_library(tmp_path).stat().st_mtime_ns == mtime  # reused, not rebuilt
    torn = tmp_path / "torn"
    torn.write_bytes(b"not a shared object")
    os.replace(torn, path)
    with caplog.at_level(logging.WARNING):
        ops = load_ops(tmp_path)
    assert isinstance(ops, CKernels) and ops.path == path and not caplog.records
    assert path.stat().st_size > 1000


def test_no_compiler_means_torch_operators(tmp_path, monkeypatch, caplog):
    monkeypatch.setenv("PATH", str(tmp_path))
    monkeypatch.delenv("CC", raising=False)
    with caplog.at_level(logging.WARNING):
        ops = load_ops(tmp_path / "lib")
    assert isinstance(ops, TorchOps)
    assert "no C compiler" in caplog.text


def test_failed_compilation_and_failed_check_fall_back(tmp_path, monkeypatch, caplog):
    broken = tmp_path / "broken.c"
    broken.write_text("this is not C\n")
    monkeypatch.setattr(e5_ops, "SOURCE", broken)
    with caplog.at_level(logging.WARNING):
        assert isinstance(load_ops(tmp_path / "a"), TorchOps)
    assert "compiling broken.c failed" in caplog.text
    monkeypatch.undo()

    def wrong(self, qkv, bias, ctx, lens, lmax, heads):
        ctx.zero_()

    monkeypatch.setattr(CKernels, "attention", wrong)
    caplog.clear()
    with caplog.at_level(logging.WARNING):
        assert isinstance(load_ops(tmp_path / "b"), TorchOps)
    assert "disagree with torch" in caplog.text
