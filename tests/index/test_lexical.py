"""BM25 over jieba tokens: ranking, candidate filters, stop words."""

from __future__ import annotations

import numpy as np

from rag.index.lexical import BM25Index, tokenize

TEXTS = {
    "a:0": "全年地区生产总值增长5.2%，一般公共预算收入1.5亿元。",
    "a:1": "新建城市公园12个，空气优良天数303天。",
    "b:0": "粮食总产量稳定在3,566万吨，农民收入持续增长。",
    "b:1": "空气质量持续改善，优良天数比例达到85%。",
    "c:0": "旅游总收入达到137.6亿元，接待游客增长12%。",
}


def index() -> BM25Index:
    return BM25Index(list(TEXTS), [tokenize(t) for t in TEXTS.values()])


def test_tokenize_drops_punctuation_and_stop_words_keeps_numbers():
    toks = tokenize("我们的粮食总产量是多少？达到3,566万吨、增长5.2%")
    assert "粮食" in toks and "的" not in toks and "我们" not in toks and "多少" not in toks
    assert not any(t in "，？、" for t in toks)
    assert "5.2%" in toks or "5.2" in toks


def test_the_matching_chunk_ranks_first():
    idx = index()
    hits = idx.search(tokenize("旅游总收入是多少"), None, k=3)
    assert hits[0][0] == "c:0"
    assert all(score > 0 for _, score in hits)
    assert [h[1] for h in hits] == sorted((h[1] for h in hits), reverse=True)


def test_filtered_search_returns_only_candidates():
    idx = index()
    q = tokenize("空气优良天数")
    assert {cid for cid, _ in idx.search(q, None, k=5)} >= {"a:1", "b:1"}
    hits = idx.search(q, ["b:0", "b:1", "unknown"], k=5)
    assert [cid for cid, _ in hits] == ["b:1"]
    assert idx.search(q, [], k=5) == []
    assert idx.search(q, ["nope"], k=5) == []


def test_no_match_and_empty_index():
    assert index().search(tokenize("航天发射"), None, k=5) == []
    empty = BM25Index([], [])
    assert len(empty) == 0 and empty.search(["空气"], None, k=5) == []
    assert empty.scores(["空气"]).shape == (0,)


def test_rarer_terms_weigh_more():
    ids = [f"d{i}" for i in range(10)]
    toks = [["增长", "经济"]] * 9 + [["增长", "冰雪"]]
    idx = BM25Index(ids, toks)
    s = idx.scores(["增长", "冰雪"])
    assert int(np.argmax(s)) == 9
    assert idx.idf[idx.vocab["冰雪"]] > idx.idf[idx.vocab["增长"]]


def test_shorter_chunks_score_higher_for_the_same_term_count():
    idx = BM25Index(["short", "long"], [["空气"], ["空气"] + ["其他"] * 50])
    hits = idx.search(["空气"], None, k=2)
    assert [h[0] for h in hits] == ["short", "long"]


def test_replace_equals_a_fresh_build_and_leaves_the_old_index_alone():
    old = index()
    before = old.scores(tokenize("空气优良天数"))
    new_texts = {"d:0": "空气优良天数320天，新建口袋公园8个。", "d:1": "海洋经济增加值增长9%。"}
    keep = np.array([not cid.startswith("b:") for cid in TEXTS])
    new = old.replace(keep, list(new_texts), [tokenize(t) for t in new_texts.values()])

    texts = {k: v for k, v in TEXTS.items() if not k.startswith("b:")} | new_texts
    fresh = BM25Index(list(texts), [tokenize(t) for t in texts.values()])
    assert new.ids == fresh.ids == ["a:0", "a:1", "c:0", "d:0", "d:1"]
    for q in ("空气优良天数", "海洋经济", "旅游总收入", "粮食总产量"):
        np.testing.assert_allclose(new.scores(tokenize(q)), fresh.scores(tokenize(q)), rtol=1e-6)
    assert new.search(tokenize("海洋经济"), None, 3)[0][0] == "d:1"
    assert new.search(tokenize("粮食"), None, 3) == []  # b's chunks are gone
    np.testing.assert_array_equal(old.scores(tokenize("空气优良天数")), before)
    assert old.ids == list(TEXTS)


def test_replace_can_empty_the_index_and_refill_it():
    empty = index().replace(np.zeros(len(TEXTS), dtype=bool), [], [])
    assert len(empty) == 0 and empty.search(tokenize("空气"), None, 5) == []
    refilled = empty.replace(np.zeros(0, dtype=bool), ["x:0"], [tokenize("空气优良天数303天")])
    assert [cid for cid, _ in refilled.search(tokenize("空气"), None, 5)] == ["x:0"]
