"""Which files of a folder are reports."""

from rag.ingest.pipeline import discover, find_manifest


def test_discover_skips_manifests_folder_docs_and_hidden_files(tmp_path):
    for name in ("a.txt", "b.md", "c.pdf", "SOURCE.md", "README.md", "manifest.tsv",
                 "notes.json", ".hidden.txt"):
        (tmp_path / name).write_text("x", encoding="utf-8")
    (tmp_path / "sub").mkdir()
    (tmp_path / "sub" / "d.html").write_text("x", encoding="utf-8")
    (tmp_path / ".git").mkdir()
    (tmp_path / ".git" / "e.txt").write_text("x", encoding="utf-8")
    names = [p.name for p in discover([tmp_path])]
    assert names == ["a.txt", "b.md", "c.pdf", "d.html"]
    assert find_manifest([tmp_path]) == tmp_path / "manifest.tsv"


def test_an_explicit_file_is_taken_as_given(tmp_path):
    f = tmp_path / "README.md"
    f.write_text("x", encoding="utf-8")
    assert discover([f]) == [f]
