"""Question sets: the shipped dev set loads; broken lines are named in the error."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from rag.evaluate.dataset import DatasetError, load_questions

ROOT = Path(__file__).resolve().parents[2]
GOOD = {
    "id": "x1",
    "question": "2022年哪些区新增了学位？",
    "kind": "list",
    "expect": {"docs": ["a.txt"]},
    "evidence": [{"doc": "a.txt", "quote": "新增学位6300个"}],
}


def write(tmp_path: Path, *lines: object) -> Path:
    path = tmp_path / "set.jsonl"
    path.write_text(
        "\n".join(x if isinstance(x, str) else json.dumps(x, ensure_ascii=False) for x in lines),
        encoding="utf-8",
    )
    return path


def test_dev_set_loads_and_its_quotes_are_in_the_sample_reports():
    questions = load_questions(ROOT / "eval" / "dev.jsonl")
    assert {q.kind for q in questions} == {"list", "fact", "compare", "none"}
    none = next(q for q in questions if q.kind == "none")
    assert none.expect.docs == () and none.evidence == ()
    for q in questions:
        for ev in q.evidence:
            text = (ROOT / "examples" / "reports" / ev.doc).read_bytes().decode("utf-8")
            assert ev.quote in text, (q.id, ev.quote)


def test_optional_fields_default_and_blank_lines_are_skipped(tmp_path):
    path = write(tmp_path, GOOD, "", {**GOOD, "id": "x2", "kind": "none", "expect": {}})
    first, second = load_questions(path)
    assert first.expect.optional_docs == () and first.expect.facts == ()
    assert second.kind == "none"


@pytest.mark.parametrize(
    ("line", "message"),
    [
        ('{"id": "x", "question": ', "not valid JSON"),
        ({k: v for k, v in GOOD.items() if k != "question"}, "missing field 'question'"),
        ({k: v for k, v in GOOD.items() if k != "expect"}, "missing field 'expect'"),
        ({**GOOD, "kind": "yesno"}, "unknown kind 'yesno'"),
        ({**GOOD, "expect": {}}, "needs 'expect.docs'"),
        ({**GOOD, "expect": {"docs": ["a.txt"], "facts": "2万"}}, "'expect.facts'"),
        ({**GOOD, "evidence": [{"doc": "a.txt"}]}, "evidence[0]"),
        ([1, 2], "expected a JSON object"),
    ],
)
def test_bad_line_is_named(tmp_path, line, message):
    path = write(tmp_path, GOOD | {"id": "ok"}, line)
    with pytest.raises(DatasetError) as e:
        load_questions(path)
    assert f"{path}:2" in str(e.value)
    assert message in str(e.value)


def test_repeated_id_and_empty_file(tmp_path):
    with pytest.raises(DatasetError, match="already used on line 1"):
        load_questions(write(tmp_path, GOOD, GOOD))
    with pytest.raises(DatasetError, match="no questions"):
        load_questions(write(tmp_path, ""))
    with pytest.raises(DatasetError, match="cannot read"):
        load_questions(tmp_path / "missing.jsonl")


CITIES = ROOT.parent / "shared" / "corpus" / "cities"


@pytest.mark.skipif(not CITIES.is_dir(), reason="the cities corpus is not beside the repo")
@pytest.mark.parametrize("name, slice_name", [
    ("robust_cities.jsonl", "robust_slice.txt"),
    ("robust_facts.jsonl", "robust_slice.txt"),
    ("lists_cities.jsonl", "robust_slice.txt"),
])
def test_city_sets_name_reports_of_their_slice_and_quote_them_verbatim(name, slice_name):
    from rag.ingest.load import load_document

    paths = [line.strip() for line in (ROOT / "eval" / slice_name).read_text("utf-8").splitlines()
             if line.strip() and not line.startswith("#")]
    by_name = {Path(p).name: CITIES / p for p in paths}
    for q in load_questions(ROOT / "eval" / name):
        assert set(q.expect.docs) <= set(by_name), q.id
        for ev in q.evidence:
            text = load_document(by_name[ev.doc]).text
            assert ev.quote in text, (q.id, ev.quote)
