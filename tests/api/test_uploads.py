"""Uploads over loopback HTTP: a name the store holds is only replaced when asked (409
otherwise), and an upload that fails to ingest leaves nothing behind."""

from __future__ import annotations

import time

import httpx
import pytest
from api_support import serve
from support import REPORTS

from api.main import create_app
from rag.config import Settings

EXISTING = "000_a8555e4fddf26ffc.txt"


@pytest.fixture
def base(writable_assistant):
    with serve(create_app(Settings(), assistant=writable_assistant)) as url:
        yield url


def wait(base: str, job: dict) -> dict:
    deadline = time.monotonic() + 60
    while job["status"] not in ("done", "failed"):
        assert time.monotonic() < deadline, job
        time.sleep(0.05)
        job = httpx.get(f"{base}/v1/documents/jobs/{job['id']}").json()
    return job


def docs(base: str) -> dict[str, dict]:
    return {d["source"]: d for d in httpx.get(base + "/v1/documents").json()}


def leftovers(assistant) -> list[str]:
    uploads = assistant.store.path / "uploads"
    return sorted(str(p.relative_to(uploads)) for p in uploads.rglob("*") if p.is_file()) \
        if uploads.exists() else []


def test_an_existing_name_is_409_unless_replace_is_asked(base, writable_assistant):
    before = docs(base)[EXISTING]
    other = (REPORTS / "002_11fb4cd1e17529ea.txt").read_bytes()
    r = httpx.post(base + "/v1/documents", files={"file": (EXISTING, other, "text/plain")})
    assert r.status_code == 409, r.text
    assert "replace=true" in r.json()["detail"] and "PUT" in r.json()["detail"]
    assert docs(base)[EXISTING]["doc_id"] == before["doc_id"]  # untouched

    changed = (REPORTS / EXISTING).read_bytes() + "\n附：替换测试。\n".encode()
    r = httpx.post(base + "/v1/documents?replace=true",
                   files={"file": (EXISTING, changed, "text/plain")})
    assert r.status_code == 202, r.text
    job = wait(base, r.json())
    assert job["status"] == "done" and job["summary"]["replaced"] == 1, job
    replaced = docs(base)[EXISTING]
    assert replaced["doc_id"] != before["doc_id"]

    again = changed + "再次替换。\n".encode()
    r = httpx.put(f"{base}/v1/documents/{EXISTING}", files={"file": ("any.txt", again)})
    assert r.status_code == 202 and r.json()["source"] == EXISTING, r.text
    assert wait(base, r.json())["status"] == "done"
    assert docs(base)[EXISTING]["doc_id"] not in (before["doc_id"], replaced["doc_id"])
    assert leftovers(writable_assistant) == [EXISTING]


def test_a_second_upload_of_a_new_name_is_409_while_the_first_is_pending(base):
    data = (REPORTS / "002_11fb4cd1e17529ea.txt").read_bytes() + "\n附：并发上传。\n".encode()
    first = httpx.post(base + "/v1/documents", files={"file": ("new.txt", data)})
    assert first.status_code == 202
    second = httpx.post(base + "/v1/documents", files={"file": ("new.txt", data + b"x")})
    assert second.status_code == 409, second.text  # pending or already in the store
    assert wait(base, first.json())["status"] == "done"
    assert httpx.post(base + "/v1/documents", files={"file": ("new.txt", data)}
                      ).status_code == 409


def test_a_failed_upload_is_removed(base, writable_assistant):
    r = httpx.post(base + "/v1/documents",
                   files={"file": ("broken.pdf", b"%PDF-1.4 garbage", "application/pdf")})
    job = wait(base, r.json())
    assert job["status"] == "failed" and job["error"]
    assert leftovers(writable_assistant) == []
    assert "broken.pdf" not in docs(base)


def test_a_failed_replace_keeps_the_previous_file_and_report(base, writable_assistant):
    good = (REPORTS / "002_11fb4cd1e17529ea.txt").read_bytes() + "\n附：上传测试。\n".encode()
    job = wait(base, httpx.post(base + "/v1/documents",
                                files={"file": ("up.txt", good)}).json())
    assert job["status"] == "done"
    before = docs(base)["up.txt"]
    bad = b"\x00\x01\x02 not text \xff\xfe" * 50
    r = httpx.put(base + "/v1/documents/up.txt", files={"file": ("up.txt", bad)})
    job = wait(base, r.json())
    assert job["status"] == "failed", job
    assert docs(base)["up.txt"]["doc_id"] == before["doc_id"]
    assert leftovers(writable_assistant) == ["up.txt"]
    assert (writable_assistant.store.path / "uploads" / "up.txt").read_bytes() == good


def test_put_needs_a_plain_name(base):
    r = httpx.put(base + "/v1/documents/.hidden.txt", files={"file": ("x.txt", b"abc")})
    assert r.status_code == 422
    r = httpx.put(base + "/v1/documents/tool.exe", files={"file": ("x.txt", b"abc")})
    assert r.status_code == 415
