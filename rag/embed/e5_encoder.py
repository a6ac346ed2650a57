"""The e5 encoder (XLM-RoBERTa/BERT, post-LN, erf GELU) over padded windows of token ids.

:class:`E5Encoder` runs it in fp32 torch. :class:`BF16Encoder` runs the matmuls in bf16
(oneDNN; on CPUs with bf16 dot-product instructions they run at several times the fp32 rate)
with fp32 accumulation, and keeps the residual stream, LayerNorm, softmax and pooling in fp32;
attention, bias + GELU and the residual LayerNorm run in :mod:`rag.embed.e5_ops`. Both are
within cosine 0.9999 of ``e5.c``, which itself rounds every matmul input to int8.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import torch
import torch.nn.functional as F

from rag.embed.e5_model import E5Config, _dequant
from rag.embed.e5_ops import CKernels, TorchOps


def native_bf16() -> bool:
    """True when this CPU multiplies bf16 natively (AVX512-BF16, AMX, or Arm's BF16)."""
    try:
        text = Path("/proc/cpuinfo").read_text()
    except OSError:
        return False
    flags = set()
    for line in text.splitlines():
        if line.startswith(("flags", "Features")):
            flags.update(line.split(":", 1)[1].split())
    return bool(flags & {"avx512_bf16", "amx_bf16", "bf16"})


class _Batch:
    """Windows padded to the longest: token ids, positions and lengths."""

    def __init__(self, windows: Sequence[Sequence[int]], pad_id: int) -> None:
        self.lens = torch.tensor([len(w) for w in windows], dtype=torch.int32)
        self.b, self.lmax = len(windows), int(self.lens.max())
        self.n = self.b * self.lmax
        ids = torch.full((self.b, self.lmax), pad_id, dtype=torch.long)
        for i, w in enumerate(windows):
            ids[i, : len(w)] = torch.as_tensor(w)
        self.ids = ids.view(-1)
        self.pos = torch.arange(self.lmax).repeat(self.b)
        self.valid = torch.arange(self.lmax)[None, :] < self.lens[:, None]
        self.padded = not bool(self.valid.all())

    def mean(self, x: torch.Tensor) -> torch.Tensor:
        """Mean over each window's own rows of x [n, H] -> [b, H]."""
        x = x.view(self.b, self.lmax, -1)
        if not self.padded:
            return x.mean(dim=1)
        return (x * self.valid[:, :, None]).sum(dim=1) / self.lens[:, None].to(x.dtype)


class Encoder:
    """What both encoders share: the weights by layer and the token embedding."""

    precision: str

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

    def mean_pooled(self, windows: Sequence[Sequence[int]]) -> torch.Tensor:
        """Raw (unnormalized) mean of the last hidden states of each window, [B, H].

        Windows are padded to the longest one; callers sort by length so the padding (wasted
        matmul rows, masked out of attention and pooling) stays small.
        """
        raise NotImplementedError


class E5Encoder(Encoder):
    """The encoder in fp32 torch (oneDNN matmuls where torch has them)."""

    precision = "fp32"

    def __init__(self, cfg: E5Config, t: dict[str, torch.Tensor], pad_id: int) -> None:
        super().__init__(cfg, t, pad_id)
        self._pack()

    def _pack(self) -> None:
        """fp32 weights in oneDNN's layout, when torch has oneDNN: its AVX-512 kernels run at
        ~2x MKL's on AMD CPUs (MKL keeps to AVX2 there), with bias and GELU fused."""
        try:
            for ly in self.layers:
                for k in ("qkv", "ao", "fi", "fo"):
                    ly[k + ".p"] = torch.ops.mkldnn._reorder_linear_weight(ly[k + ".w"], None)
            self._linear(torch.zeros(1, self.cfg.hidden), self.layers[0], "qkv")
        except (AttributeError, RuntimeError):  # a torch without oneDNN: plain addmm
            for ly in self.layers:
                for k in ("qkv", "ao", "fi", "fo"):
                    ly.pop(k + ".p", None)

    def _linear(self, x: torch.Tensor, ly: dict, k: str, gelu: bool = False) -> torch.Tensor:
        packed = ly.get(k + ".p")
        if packed is not None:
            act, algo = ("gelu", "none") if gelu else ("none", "")  # "none": the erf form
            return torch.ops.mkldnn._linear_pointwise(x, packed, ly[k + ".b"], act, [], algo)
        y = torch.addmm(ly[k + ".b"], x, ly[k + ".w"].t())
        return torch.ops.aten.gelu_(y) if gelu else y

    @torch.inference_mode()
    def mean_pooled(self, windows: Sequence[Sequence[int]]) -> torch.Tensor:
        cfg = self.cfg
        h, nh, hd = cfg.hidden, cfg.heads, cfg.hidden // cfg.heads
        bt = _Batch(windows, self.pad_id)
        b, lmax, n = bt.b, bt.lmax, bt.n
        keep = bt.valid.view(b, 1, 1, lmax) if bt.padded else None
        x = self.embed_tokens(bt.ids, bt.pos)
        for ly in self.layers:
            qkv = self._linear(x, ly, "qkv")
            q, k, v = qkv.view(b, lmax, 3, nh, hd).permute(2, 0, 3, 1, 4)
            ctx = F.scaled_dot_product_attention(q, k, v, attn_mask=keep)
            att = self._linear(ctx.transpose(1, 2).reshape(n, h), ly, "ao")
            x = F.layer_norm(att.add_(x), (h,), ly["aln.w"], ly["aln.b"], cfg.eps)
            ffo = self._linear(self._linear(x, ly, "fi", gelu=True), ly, "fo")
            x = F.layer_norm(ffo.add_(x), (h,), ly["oln.w"], ly["oln.b"], cfg.eps)
        return bt.mean(x)


class BF16Encoder(Encoder):
    """The encoder with bf16 matmuls; everything between them in fp32 (see module doc)."""

    precision = "bf16"

    def __init__(
        self, cfg: E5Config, t: dict[str, torch.Tensor], pad_id: int, ops: CKernels | TorchOps
    ) -> None:
        super().__init__(cfg, t, pad_id)
        self.ops = ops
        # weights as bf16 [out, in] (oneDNN takes the transposed view as is); biases and
        # LayerNorm parameters stay fp32, the kernels add them in fp32
        for ly in self.layers:
            for k in ("qkv", "ao", "fi", "fo"):
                ly[k + ".w"] = ly[k + ".w"].to(torch.bfloat16).contiguous()
                ly[k + ".b"] = ly[k + ".b"].contiguous()

    @torch.inference_mode()
    def mean_pooled(self, windows: Sequence[Sequence[int]]) -> torch.Tensor:
        cfg, ops, bf16 = self.cfg, self.ops, torch.bfloat16
        h = cfg.hidden
        bt = _Batch(windows, self.pad_id)
        x = self.embed_tokens(bt.ids, bt.pos).contiguous()
        xb = x.to(bf16)
        # one buffer per activation for all layers; proj takes both attention-out and FFN-out
        qkv, ctx, mid, proj = (torch.empty(bt.n, m, dtype=bf16) for m in (3 * h, h, cfg.ffn, h))
        for ly in self.layers:
            torch.mm(xb, ly["qkv.w"].t(), out=qkv)
            ops.attention(qkv, ly["qkv.b"], ctx, bt.lens, bt.lmax, cfg.heads)
            torch.mm(ctx, ly["ao.w"].t(), out=proj)
            ops.add_layernorm(x, proj, ly["ao.b"], ly["aln.w"], ly["aln.b"], cfg.eps, xb)
            torch.mm(xb, ly["fi.w"].t(), out=mid)
            ops.bias_gelu(mid, ly["fi.b"])
            torch.mm(mid, ly["fo.w"].t(), out=proj)
            ops.add_layernorm(x, proj, ly["fo.b"], ly["oln.w"], ly["oln.b"], cfg.eps, xb)
        return bt.mean(x)


def matmul_flops(cfg: E5Config, window_lengths: Sequence[int]) -> int:
    """Multiply-add FLOPs (x2) of the encoder's matmuls for unpadded windows of these lengths."""
    h, ff = cfg.hidden, cfg.ffn
    per_token = 2 * (4 * h * h + 2 * h * ff)  # Q, K, V, attention out, FFN in and out
    attention = sum(4 * n * n * h for n in window_lengths)  # QK^T and PV over all heads
    return cfg.layers * (per_token * sum(window_lengths) + attention)
