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


def test_the_stored_units_of_a_report_leave_its_headings_out(e5_sample_store, e5_embeddings):
    from rag.config import Settings
    from rag.pipeline import open_assistant

    assistant = open_assistant(Settings(), e5_sample_store, embeddings=e5_embeddings)
    try:
        store = assistant.store
        docs = store.catalog.documents()
        units = store.units([d.doc_id for d in docs])
        assert set(units) == {d.doc_id for d in docs}
        dropped = 0
        for doc in docs:
            text = store.catalog.text(doc.doc_id) or ""
            kept = {(int(s), int(e)) for s, e in units[doc.doc_id].spans}
            every = units_of(text, [(r.start, r.end) for r in store.catalog.chunks([doc.doc_id])])
            assert kept <= set(every)
            assert all(states_something(text, s, e) for s, e in kept)
            dropped += len(set(every) - kept)
            assert units[doc.doc_id].vectors.shape == (len(kept), 384)
            assert np.isfinite(units[doc.doc_id].vectors.astype(np.float32)).all()
        # the sample reports have headings ("2018年工作安排", "名词解释", …)
        assert dropped > 0
    finally:
        assistant.close()
