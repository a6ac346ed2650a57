"""``/v1/documents``: upload (ingested in the background), replace, list, delete; job status."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Annotated

from fastapi import APIRouter, HTTPException, Query, UploadFile, status
from starlette.concurrency import run_in_threadpool

from api.deps import PROTECTED, AssistantDep, JobsDep, RuntimeDep, SettingsDep
from api.jobs import UploadConflict
from api.schemas import Deleted, DocumentOut, JobOut, error_responses
from rag.ingest.pipeline import SUPPORTED

router = APIRouter(prefix="/v1/documents", tags=["documents"], dependencies=PROTECTED,
                   responses=error_responses(401, 422, 429, 503))

READ_BLOCK = 1 << 20


def safe_name(filename: str | None) -> str | None:
    """The file's base name, or None when it is empty, hidden or odd."""
    name = Path((filename or "").replace("\\", "/")).name.strip()
    if not name or name.startswith(".") or len(name) > 200 or re.search(r"[\x00-\x1f]", name):
        return None
    return name


UPLOAD_ERRORS = error_responses(400, 409, 413, 415, 422)


@router.post("", response_model=JobOut, status_code=status.HTTP_202_ACCEPTED,
             responses=UPLOAD_ERRORS)
async def upload(
    file: UploadFile, assistant: AssistantDep, jobs: JobsDep, runtime: RuntimeDep,
    settings: SettingsDep,
    replace: Annotated[bool, Query(
        description="Replace the report of the same name; without it such an upload is 409"
    )] = False,
) -> dict:
    """Save a report (txt, md, html, pdf, docx) and ingest it; poll the returned job.

    A name the store already holds is refused with 409 unless ``replace=true`` (or use
    ``PUT /v1/documents/{name}``)."""
    name = _checked_name(file.filename)
    return await _submit(file, name, replace, assistant, jobs, runtime, settings)


@router.put("/{key}", response_model=JobOut, status_code=status.HTTP_202_ACCEPTED,
            responses=UPLOAD_ERRORS)
async def put(key: str, file: UploadFile, assistant: AssistantDep, jobs: JobsDep,
              runtime: RuntimeDep, settings: SettingsDep) -> dict:
    """Upload a report under the file name ``key``, replacing the report of that name if
    there is one (the uploaded file's own name is not used)."""
    if safe_name(key) != key:
        raise HTTPException(status.HTTP_422_UNPROCESSABLE_CONTENT,
                            "the name must be a plain file name, e.g. report.txt")
    return await _submit(file, _checked_name(key), True, assistant, jobs, runtime, settings)


def _checked_name(filename: str | None) -> str:
    name = safe_name(filename)
    if name is None:
        raise HTTPException(status.HTTP_422_UNPROCESSABLE_CONTENT,
                            "the upload needs a plain file name, e.g. report.txt")
    if Path(name).suffix.lower() not in SUPPORTED:
        raise HTTPException(status.HTTP_415_UNSUPPORTED_MEDIA_TYPE,
                            f"unsupported file type {Path(name).suffix or '(none)'!r}; "
                            f"send one of {', '.join(sorted(SUPPORTED))}")
    return name


async def _submit(file: UploadFile, name: str, replace: bool, assistant, jobs, runtime,
                  settings) -> dict:
    if not replace and (doc := assistant.store.catalog.document_by_source(name)) is not None:
        raise HTTPException(status.HTTP_409_CONFLICT, _exists(name, doc.doc_id))
    limit = settings.api.max_upload_bytes
    data = bytearray()
    while block := await file.read(READ_BLOCK):
        data += block
        if len(data) > limit:
            raise HTTPException(status.HTTP_413_CONTENT_TOO_LARGE,
                                f"the file is over the upload limit of {limit} bytes")
    if not data:
        raise HTTPException(status.HTTP_422_UNPROCESSABLE_CONTENT, "the file is empty")
    try:
        job = await run_in_threadpool(jobs.submit, assistant, runtime.upload_dir, name,
                                      bytes(data), replace=replace)
    except UploadConflict as exc:
        raise HTTPException(status.HTTP_409_CONFLICT, str(exc)) from exc
    return job.to_dict()


def _exists(name: str, doc_id: str) -> str:
    return (f"a report named {name!r} is already in the store (doc_id {doc_id}); to replace "
            f"it, send the upload with ?replace=true or PUT /v1/documents/{name}")


@router.get("/jobs/{job_id}", response_model=JobOut, responses=error_responses(404))
async def job(job_id: str, jobs: JobsDep) -> dict:
    """Status of an upload's ingestion: queued, running, done (with summary) or failed."""
    found = jobs.get(job_id)
    if found is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, f"no ingest job {job_id!r}")
    return found.to_dict()


@router.get("", response_model=list[DocumentOut])
async def documents(assistant: AssistantDep) -> list[dict]:
    """The reports in the store."""
    docs = await run_in_threadpool(assistant.documents)
    return [d.to_dict() for d in docs]


@router.delete("/{key}", response_model=Deleted, responses=error_responses(404))
async def delete(key: str, assistant: AssistantDep) -> Deleted:
    """Delete a report by doc_id or source file name."""
    catalog = assistant.store.catalog
    doc = catalog.document(key) or catalog.document_by_source(key)
    if doc is None or not await run_in_threadpool(assistant.delete, doc.doc_id):
        raise HTTPException(status.HTTP_404_NOT_FOUND, f"no report {key!r} in the store")
    return Deleted(deleted=doc.source, doc_id=doc.doc_id)
