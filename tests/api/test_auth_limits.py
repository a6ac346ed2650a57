"""Authentication over loopback HTTP: an address guessing keys is slowed down."""

from __future__ import annotations

import httpx
from api_support import serve

from api.main import create_app
from rag.config import APISettings, Settings


def test_wrong_api_keys_are_rate_limited_by_address(assistant):
    settings = Settings(api=APISettings(api_keys=["right-key"], auth_failures_per_minute=5))
    with serve(create_app(settings, assistant=assistant)) as url, httpx.Client() as http:
        codes = [http.get(url + "/v1/models", headers={"Authorization": f"Bearer guess{i}"}
                          ).status_code for i in range(30)]
        assert codes[:5] == [401] * 5 and set(codes[5:]) == {429}
        r = http.get(url + "/v1/models", headers={"Authorization": "Bearer guess"})
        assert r.status_code == 429 and int(r.headers["Retry-After"]) >= 1
        assert "failed authentications" in r.json()["detail"]
        missing = http.get(url + "/v1/models")  # no key at all counts the same
        assert missing.status_code == 429
        # Even the right key waits: an address that guesses is slowed down as a whole.
        right = http.get(url + "/v1/models", headers={"Authorization": "Bearer right-key"})
        assert right.status_code == 429


def test_a_right_key_is_not_limited_by_the_failure_budget(assistant):
    settings = Settings(api=APISettings(api_keys=["k"], auth_failures_per_minute=2))
    with serve(create_app(settings, assistant=assistant)) as url, httpx.Client() as http:
        codes = [http.get(url + "/v1/models", headers={"Authorization": "Bearer k"}).status_code
                 for _ in range(10)]
        assert codes == [200] * 10
