"""Background work made visible: one job (`GET /v1/jobs/{job_id}`: queued → running → derived
or released, timings, progress, error), each school's upload state (admins), and the yearly
standard release started by an admin (`POST /v1/releases/standard/{school_year}`, answered
with its job). The work itself runs on the writer thread (service/jobs/writer.py)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Request, Response, status
from starlette.concurrency import run_in_threadpool

from service.api import PREFIX, job_link, roles
from service.api.auth import Role
from service.api.deps import CurrentKey, DbDep
from service.api.problems import NotFound
from service.api.params import SchoolYearPath as YearPath
from service.register import lookup
from service.jobs import records

router = APIRouter(prefix=PREFIX, tags=["jobs"])
#: Who may call each route of this module (service/api/roles.py: deny by default).
ACCESS = roles.declare(
    roles.route("GET", "/v1/uploads/status", roles.allow(Role.admin)),
    # a school key sees only its own school's jobs (another's answers 404, as a missing one)
    roles.route("GET", "/v1/jobs/{job_id}", roles.allow(Role.school, Role.admin),
                example={"path": {"job_id": 1}}),
    roles.route("POST", "/v1/releases/standard/{school_year}", roles.allow(Role.admin),
                example={"path": {"school_year": "2024-2025"}}),
)


@router.get("/jobs/{job_id}", summary="State of one background job (derive or release)")
async def get_job(job_id: int, db: DbDep, key: CurrentKey):
    job = await run_in_threadpool(records.get, db, job_id)
    # a school sees only its own school's jobs; another's looks like a missing one
    if job is None or (key.role is Role.school and job.school_id != key.scope):
        raise NotFound("no such job")
    return {**job.public(), "links": {"self": job_link(job.job_id)}}


@router.get("/uploads/status", summary="Each school's latest batch and the state of its derive")
async def upload_states(db: DbDep,
                        school_year: Annotated[str | None, Query(pattern=r"^[0-9]{4}-[0-9]{4}$")] = None):
    return {"schools": await run_in_threadpool(records.school_states, db, school_year)}


@router.post("/releases/standard/{school_year}", status_code=status.HTTP_202_ACCEPTED,
             summary="Start the yearly standard release (a job; follow its link)")
async def start_standard_release(school_year: YearPath, db: DbDep, request: Request,
                                 response: Response):
    def queue() -> int:
        if not lookup.school_year_exists(db, school_year):
            raise NotFound("no such school year in the register", errors=[{
                "in": "path", "field": "school_year", "message": "no school year with this name"}])
        return request.app.state.writer.queue(db, records.RELEASE_STANDARD, school_year)
    job_id = await run_in_threadpool(queue)
    response.headers["Location"] = job_link(job_id)
    return {"job_id": job_id, "state": records.QUEUED, "links": {"status": job_link(job_id)}}
