"""Bad input over loopback HTTP: a clear 4xx with a reason, never a 500 or a reset
connection; and the OpenAPI document says what the server does."""

from __future__ import annotations

import httpx
import pytest
from api_support import QUESTION, serve

from api.main import create_app
from rag.config import APISettings, Settings

JSON = {"content-type": "application/json"}


@pytest.fixture(scope="module")
def base(assistant):
    with serve(create_app(Settings(api=APISettings(rate_per_minute=10_000)),
                          assistant=assistant)) as url:
        yield url


@pytest.mark.parametrize("path,body", [
    ("/v1/ask", '{"question": "\\ud800 2023年事故"}'),
    ("/v1/ask", '{"question": "2023年事故\\udfff"}'),
    ("/v1/ask", '{"question": "x", "\\ud800": 1}'),
    ("/v1/chat/completions", '{"messages": [{"role": "user", "content": "\\ud800 2023年事故"}]}'),
    ("/v1/chat/completions",
     '{"stream": true, "messages": [{"role": "user", "content": "\\ud800 2023年事故"}]}'),
    ("/v1/chat/completions", '{"messages": [{"role": "user", "content": '
                             '[{"type": "text", "text": "\\udc00 2023年事故"}]}]}'),
    ("/v1/chat/completions", '{"messages": [{"role": "user", "content": "\\ud800"}, '
                             '{"role": "user", "content": "那2022年呢？"}]}'),
    ("/v1/chat/completions", '{"model": "\\ud800", "messages": [{"role": "user", '
                             '"content": "和平区2022年新增就业多少人？"}]}'),
])
def test_lone_surrogates_are_refused_with_a_reason(base, path, body):
    r = httpx.post(base + path, content=body.encode(), headers=JSON, timeout=30)
    assert r.status_code == 422, r.text
    out = r.json()
    assert "surrogate" in out["detail"] or "unicode" in out["detail"].lower(), out
    assert isinstance(out["errors"], list) if "errors" in out else True


def test_the_server_still_answers_after_bad_input(base):
    r = httpx.post(base + "/v1/ask", json={"question": QUESTION}, timeout=30)
    assert r.status_code == 200 and r.json()["found"]


def test_the_openapi_document_matches_the_server(base):
    import jsonschema

    doc = httpx.get(base + "/openapi.json").json()
    components = doc["components"]["schemas"]
    question = components["AskRequest"]["properties"]["question"]
    assert question["maxLength"] == 2000 and question["minLength"] == 1

    ask = doc["paths"]["/v1/ask"]["post"]["responses"]
    assert {"400", "401", "413", "422", "429", "503", "504"} <= ask.keys()
    upload = doc["paths"]["/v1/documents"]["post"]
    assert {"400", "409", "413", "415", "422"} <= upload["responses"].keys()
    assert any(p["name"] == "replace" for p in upload["parameters"])
    assert {"put", "delete"} <= doc["paths"]["/v1/documents/{key}"].keys()

    def check(response: httpx.Response, path: str, method: str) -> None:
        """The response's status is declared for the operation, and its body fits."""
        declared = doc["paths"][path][method]["responses"][str(response.status_code)]
        schema = declared["content"]["application/json"]["schema"]
        jsonschema.validate(response.json(), {**schema, "components": doc["components"]})

    bad = [
        ({"question": 42}, 422), ({}, 422), ({"question": "   "}, 422),
        ({"question": "长" * 2001}, 422), ({"question": "x", "extra": 1}, 422),
    ]
    for body, code in bad:
        r = httpx.post(base + "/v1/ask", json=body)
        assert r.status_code == code and isinstance(r.json()["detail"], str), r.text
        check(r, "/v1/ask", "post")
    r = httpx.post(base + "/v1/ask", content=b"{not json", headers=JSON)
    assert r.status_code == 422 and r.json()["errors"][0]["type"] == "json_invalid"
    check(r, "/v1/ask", "post")
    r = httpx.post(base + "/v1/documents", content=b"--b\r\nbroken",
                   headers={"content-type": "multipart/form-data; boundary=b"})
    assert r.status_code in (400, 422), r.text
    check(r, "/v1/documents", "post")
    r = httpx.get(base + "/readyz")
    check(r, "/readyz", "get")
