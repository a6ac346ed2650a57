"""Sentence units: what the embedder reads of a report, and what is kept for reading
sentences by meaning."""

import numpy as np

from rag.ingest.units import UNIT_CHARS, sentence_units, states_something, units_of


def line_in(line: str) -> tuple[str, int, int]:
    text = "上一段。\n" + line + "\n下一段。"
    start = text.index(line)
    return text, start, start + len(line)


def test_a_long_sentence_is_cut_into_runs_of_its_clauses():
    sentence = "，".join(f"新建项目{i}个" for i in range(20)) + "。"
    units = sentence_units(sentence, 0, len(sentence))
    assert len(units) > 1
    assert all(e - s <= UNIT_CHARS for s, e in units)
    # the runs cover the sentence in order, without gaps between clauses
    assert units[0][0] == 0 and units[-1][1] == len(sentence)


def test_units_of_overlapping_chunks_are_each_sentence_once():
    text = "第一句话在这里。第二句话在这里。第三句话在这里。"
    units = units_of(text, [(0, 16), (8, len(text))])
    assert units == sorted(set(units)) and len(units) == 3


def test_section_headings_rules_and_date_lines_state_nothing():
    for line in ("过去五年及 2021 年工作回顾", "一、过去五年发展成就及2021年主要工作",
                 "2022年工作安排", "|", "——2022年1月11日在东莞市第十七届人民代表大会第一次会议上"):
        assert not states_something(*line_in(line)), line


def test_results_and_topical_headings_state_something():
    for line in ("地区生产总值增长6%左右", "成功创建国家卫生城市", "（三）全力推进乡村振兴",
                 "新建5G基站超2500个，累计超6500个。", "数字政府建设全面提升。"):
        assert states_something(*line_in(line)), line


def test_headings_are_stored_but_never_read_as_a_sentences_meaning(e5_sample_store,
                                                                     e5_embeddings):
    from rag.config import Settings
    from rag.pipeline import open_assistant
    from rag.retrieve.semantic import SemanticScores

    assistant = open_assistant(Settings(), e5_sample_store, embeddings=e5_embeddings)
    try:
        store = assistant.store
        docs = store.catalog.documents()
        units = store.units([d.doc_id for d in docs])
        silent = 0
        for doc in docs:
            text = store.catalog.text(doc.doc_id) or ""
            u = units[doc.doc_id]
            # every unit is stored (the chunk vectors are their mean) …
            every = units_of(text, [(r.start, r.end) for r in store.catalog.chunks([doc.doc_id])])
            assert [tuple(map(int, sp)) for sp in u.spans] == every
            assert u.states is not None and len(u.states) == len(every)
            assert list(u.states) == [states_something(text, s, e) for s, e in every]
            silent += int((~u.states).sum())
        # … and the sample reports' headings ("2018年工作安排", "名词解释", …) are marked
        assert silent > 0
        # a heading scores nothing, however close to the question
        q = np.asarray(e5_embeddings.embed_query("2018年工作安排"), dtype=np.float32)
        scores = SemanticScores(units, [q], assistant.answerer.cfg)
        for doc in docs:
            got = scores.scores(doc.doc_id)
            assert got is not None and (got[~units[doc.doc_id].states] == 0).all()
    finally:
        assistant.close()
