"""The RAG a user builds from a tutorial, as the yardstick the project is measured against.

RecursiveCharacterTextSplitter(500/50) over the raw file text, Chroma, top-4 similarity search,
and the retrieved chunks themselves as the answer. It uses the embedder it is given, so a
side-by-side run differs from the project only in what the project does on top.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

import chromadb
from chromadb.config import Settings as ChromaSettings
from langchain_chroma import Chroma
from langchain_core.documents import Document
from langchain_core.embeddings import Embeddings
from langchain_text_splitters import RecursiveCharacterTextSplitter

Reader = Callable[[Path], str | None]


def read_text(path: Path) -> str | None:
    """A file's text as read from disk: UTF-8 (BOM dropped), else GB18030; ``None`` if neither."""
    data = path.read_bytes()
    for encoding in ("utf-8-sig", "gb18030"):
        try:
            return data.decode(encoding)
        except UnicodeDecodeError:
            continue
    return None


class NaiveRAG:
    """Tutorial RAG over a persistent Chroma collection.

    Args:
        embeddings: the LangChain embedder to use (the project's, for a fair comparison).
        persist_dir: folder of the Chroma persistent client.
        k: chunks retrieved per question.
        collection: Chroma collection name.
    """

    def __init__(
        self,
        embeddings: Embeddings,
        persist_dir: str | Path,
        *,
        k: int = 4,
        collection: str = "baseline",
    ) -> None:
        self.k = k
        self.splitter = RecursiveCharacterTextSplitter(
            chunk_size=500, chunk_overlap=50, add_start_index=True
        )
        Path(persist_dir).mkdir(parents=True, exist_ok=True)
        client = chromadb.PersistentClient(
            path=str(persist_dir), settings=ChromaSettings(anonymized_telemetry=False)
        )
        self.store = Chroma(
            collection_name=collection, embedding_function=embeddings, client=client
        )

    def ingest(self, files: Iterable[str | Path], read: Reader = read_text) -> int:
        """Split and index the files; chunks already in the collection are not embedded again.

        Args:
            files: the report files; the source name is the file name.
            read: path → text (defaults to the file decoded as UTF-8 or GB18030); files it
                returns ``None`` for are skipped.

        Returns:
            How many chunks were added.
        """
        docs: list[Document] = []
        for f in files:
            path = Path(f)
            text = read(path)
            if text:
                docs.extend(self.splitter.create_documents([text], [{"source": path.name}]))
        ids = [_chunk_id(d) for d in docs]
        unique = dict(zip(ids, docs, strict=True))
        have = set(self.store.get(ids=list(unique), include=[])["ids"]) if unique else set()
        todo = {i: d for i, d in unique.items() if i not in have}
        if todo:
            self.store.add_documents(list(todo.values()), ids=list(todo))
        return len(todo)

    def ask(self, question: str) -> dict[str, Any]:
        """Answer with the top-k chunks, in the answer contract (mode ``baseline``)."""
        hits = self.store.similarity_search(question, k=self.k)
        citations, retrieved, parts = [], [], []
        for n, doc in enumerate(hits, start=1):
            source = str(doc.metadata.get("source"))
            start = int(doc.metadata.get("start_index", -1))
            end = start + len(doc.page_content)
            citations.append(
                {
                    "id": n,
                    "source": source,
                    "doc_id": source,
                    "region": None,
                    "report_year": None,
                    "covered_year": None,
                    "section": None,
                    "quote": doc.page_content,
                    "start": start,
                    "end": end,
                }
            )
            retrieved.append({"source": source, "start": start, "end": end, "rank": n})
            parts.append(f"[{n}] {doc.page_content}")
        return {
            "question": question,
            "answer": "\n\n".join(parts),
            "found": True,
            "mode": "baseline",
            "citations": citations,
            "items": [],
            "retrieved": retrieved,
        }


def _chunk_id(doc: Document) -> str:
    key = f"{doc.metadata['source']}\0{doc.metadata['start_index']}\0{doc.page_content}"
    return hashlib.sha256(key.encode("utf-8")).hexdigest()[:32]
