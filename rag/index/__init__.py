"""The store: a SQLite catalog (the record of truth), Chroma (vectors), BM25 (words)."""
