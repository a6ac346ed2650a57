"""What embedding sentence units costs against embedding chunks, on the same reports.

    python -m bench.units [--n 10] [--rounds 3]

Ingestion embeds each report's sentence units (sentences, long ones cut into clause runs of
at most 60 characters) and derives chunk vectors from them; it used to embed each chunk's
text with a region/year header. Both are timed here in one process on the same reports,
alternately, ``--rounds`` times with the embedder warm (no cache), so the ratio holds while
the machine's speed drifts; the texts, characters and tokens of each are counted. Writes
``bench/results/units.json``.
"""

from __future__ import annotations

import argparse
import statistics
import time

from bench.common import CITIES, backend_of, write_result
from bench.ingest import pick_slice


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--n", type=int, default=10, help="reports of the cities corpus")
    ap.add_argument("--rounds", type=int, default=3)
    args = ap.parse_args(argv)

    from rag.config import ChunkSettings, EmbedSettings
    from rag.embed import make_embeddings
    from rag.ingest.pipeline import Ingestor, embedding_text
    from rag.ingest.units import units_of

    files, _ = pick_slice(CITIES, CITIES / "manifest.tsv", args.n)
    ingestor = Ingestor(None, None, ChunkSettings())
    chunk_texts: list[str] = []
    unit_texts: list[str] = []
    for path in files:
        p = ingestor.parse(path)
        chunk_texts += [embedding_text(c, p.meta) for c in p.chunks]
        spans = units_of(p.doc.text, [(c.start, c.end) for c in p.chunks])
        unit_texts += [p.doc.text[s:e] for s, e in spans]
    embedder = backend_of(make_embeddings(EmbedSettings()))
    tokens = getattr(embedder, "tokenizer", None)

    def count(texts: list[str]) -> int | None:
        if tokens is None:
            return None
        return sum(len(tokens.content_ids(t)) + 2 for t in texts)

    def timed(texts: list[str]) -> float:
        t0 = time.perf_counter()
        embedder.embed_documents(texts)
        return time.perf_counter() - t0

    timed(unit_texts[:64])  # warm: the runtime's kernels and buffers
    chunks_s, units_s = [], []
    for _ in range(args.rounds):
        chunks_s.append(timed(chunk_texts))
        units_s.append(timed(unit_texts))
    ratios = [u / c for u, c in zip(units_s, chunks_s, strict=True)]
    result = {
        "reports": len(files),
        "chunks": {"texts": len(chunk_texts), "chars": sum(map(len, chunk_texts)),
                   "tokens": count(chunk_texts), "seconds": chunks_s},
        "units": {"texts": len(unit_texts), "chars": sum(map(len, unit_texts)),
                  "tokens": count(unit_texts), "seconds": units_s},
        "units_over_chunks": {"median": round(statistics.median(ratios), 3),
                              "min": round(min(ratios), 3), "max": round(max(ratios), 3)},
        "note": "chunk vectors are now the normalized mean of their units' vectors: "
                "ingestion embeds the units only",
    }
    print(f"{len(files)} reports: {len(chunk_texts)} chunks vs {len(unit_texts)} units; "
          f"units/chunks time {result['units_over_chunks']}")
    write_result("units", result, "bench.units", argv)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
