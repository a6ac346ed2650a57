"""Ingest: load files, keep report body, describe and chunk them."""
