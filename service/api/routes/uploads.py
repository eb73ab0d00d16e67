"""POST /v1/uploads: a school sends one batch (enrolments and absences, CSV or Parquet) for
its own school only.

The same validation and all-or-nothing storage as `aanwezig ingest` (service.ingest.batches): a bad
batch gives 400 listing every row error (file, row, field; never the value) and stores
nothing. The body size is limited to AANWEZIG_MAX_UPLOAD_BYTES (413). The counts in the
answer are of the rows the school itself sent. A stored batch queues a derive on the writer
thread; the answer links its status (`GET /v1/jobs/{job_id}`). An admin key may upload for
the school it names (that is how `aanwezig ingest` talks to a running service).

Concurrent uploads share one memory budget (AANWEZIG_UPLOAD_MEMORY, service.ingest.memory_budget):
an upload waits for its share before its files are read into memory, and one that would wait
longer than AANWEZIG_UPLOAD_WAIT_SECONDS is answered 503 with Retry-After.
"""

from __future__ import annotations

from dataclasses import asdict
from typing import Annotated, Literal

from fastapi import APIRouter, File, Form, Request, Response, UploadFile, status
from pydantic import BaseModel
from starlette.concurrency import run_in_threadpool

from service.ingest import batches as ingest
from service.ingest import memory_budget
from service.api import roles
from service.api import PREFIX, job_link
from service.api.auth import Role
from service.api.deps import CurrentKey, DbDep, SettingsDep
from service.jobs import records

router = APIRouter(prefix=PREFIX, tags=["uploads"])
#: Who may call each route of this module (service/api/roles.py: deny by default).
ACCESS = roles.declare(
    roles.route("POST", "/v1/uploads", roles.allow(Role.school, Role.admin, scoped=True),
                example={"data": {"school": "12AB00"}, "files": "upload"}),
)


class BatchReportPublic(BaseModel):
    batch_id: int
    school_id: str
    school_year: str
    status: Literal["stored", "unchanged", "replaced"]
    enrolment_rows: int
    absence_rows: int
    replaced_batch_id: int | None = None
    job_id: int | None = None
    links: dict[str, str] = {}


def _size(f: UploadFile) -> int:
    if f.size is not None:
        return f.size
    f.file.seek(0, 2)
    size = f.file.tell()
    f.file.seek(0)
    return size


@router.post("/uploads", response_model=BatchReportPublic, status_code=status.HTTP_201_CREATED,
             summary="Upload a batch for the key's own school",
             responses={200: {"description": "the same content was stored before: unchanged",
                              "model": BatchReportPublic},
                        503: {"description": "busy: other uploads hold the memory budget "
                                             "(AANWEZIG_UPLOAD_MEMORY); retry after Retry-After "
                                             "seconds; nothing was read or stored",
                              "headers": {"Retry-After": {"schema": {"type": "integer"}}},
                              "content": {"application/problem+json": {"schema": {
                                  "$ref": "#/components/schemas/Problem"}}}}})
async def upload(
    files: Annotated[list[UploadFile], File(description="the enrolment and absence files")],
    caller: CurrentKey, db: DbDep, settings: SettingsDep, response: Response, request: Request,
    school: Annotated[str | None, Form(description="school id; must be the key's own",
                                       max_length=16)] = None,
    school_year: Annotated[str | None, Form(pattern=r"^[0-9]{4}-[0-9]{4}$",
                                            description="default: from the dates")] = None,
    replace_with_empty: Annotated[bool, Form(
        description="let a batch without enrolment rows replace the stored one")] = False,
) -> BatchReportPublic:
    school_id = (school or caller.scope or "").strip().upper()
    if caller.role is not Role.admin:     # an admin uploads for the school it names (CLI)
        roles.require_school(caller, school_id)

    def work() -> tuple[ingest.BatchReport, int | None]:
        settings.pause_point("upload.reserved")
        batch = [ingest.UploadFile(f.filename or "upload", f.file.read()) for f in files]
        try:
            report = ingest.ingest_files(db, settings, school_id, batch, school_year,
                                         replace_with_empty=replace_with_empty,
                                         database=request.app.state.database)
        finally:
            # a refusal's traceback holds this frame (and so the files) until the cycle
            # collector runs: let the bytes go now, inside the budget
            batch.clear()
            memory_budget.give_back()
        if report.status == "unchanged":
            return report, None
        # committed: the writer thread re-derives in the background; the answer links the job
        return report, request.app.state.writer.queue(
            db, records.DERIVE, report.school_year, school_id=report.school_id,
            batch_id=report.batch_id)

    # the files wait spooled to disk, and the request on the event loop (no worker thread),
    # until the upload has its share of the memory budget
    size = sum(_size(f) for f in files)
    async with request.app.state.upload_memory.reserve(size):
        report, job_id = await run_in_threadpool(work)
    if job_id is None:
        response.status_code = status.HTTP_200_OK
        return BatchReportPublic(**asdict(report))
    return BatchReportPublic(**asdict(report), job_id=job_id, links={"status": job_link(job_id)})
