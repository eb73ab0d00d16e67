"""Releases: list, get in each format, datapackage, signature, archives, and the signing key.

Every stored release is differentially private, so reading one costs no budget and exposes
nothing beyond what its budget allows; the standard and weekly releases are public. A
region's archive of everything for one area is public too (service/releases/region_archive.py).
"""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Query, Request, Response
from pydantic import BaseModel

from service.releases import stored as releases
from service.api import PREFIX, roles
from service.api.deps import DbDep, SettingsDep
from service.api.middleware.public_cache import public_cache_control
from service.api.pagination import PageDep, PageOf, paginated
from service.api.params import AreaCodePath, RegionLevel, ReleaseIdPath, ReleaseKind
from service.api.problems import NotFound
from service.releases.subsets import FileCache, area_files, area_members, release_files
from service.releases.region_archive import region_archive as archive
from service.releases.signing import private_key, public_pem, sign

router = APIRouter(prefix=PREFIX, tags=["releases"])
#: Who may call each route of this module (service/api/roles.py: deny by default).
ACCESS = roles.declare(
    # Releases are differentially private: reading one spends no budget.
    roles.route("GET", "/v1/releases", roles.PUBLIC),
    roles.route("GET", "/v1/releases/{release_id}", roles.PUBLIC,
                example={"path": {"release_id": "RNOSUCHRELEASE"}}),
    roles.route("GET", "/v1/releases/{release_id}/datapackage", roles.PUBLIC,
                example={"path": {"release_id": "RNOSUCHRELEASE"}}),
    roles.route("GET", "/v1/releases/{release_id}/signature", roles.PUBLIC,
                example={"path": {"release_id": "RNOSUCHRELEASE"}}),
    roles.route("GET", "/v1/releases/{release_id}/areas/{level}/{code}", roles.PUBLIC,
                example={"path": {"release_id": "RNOSUCHRELEASE", "level": "municipality",
                                  "code": "GM0363"}}),
    roles.route("GET", "/v1/signing-key", roles.PUBLIC),
    roles.route("GET", "/v1/regions/{level}/{code}/archive", roles.PUBLIC,
                example={"path": {"level": "municipality", "code": "GM0363"}}),
)

MEDIA = {"json": "application/json", "csv": "text/csv; charset=utf-8",
         "parquet": "application/vnd.apache.parquet", "zip": "application/zip"}
FILE_OF = {"json": "release.json", "csv": "release.csv", "parquet": "release.parquet"}
Format = Literal["json", "csv", "parquet", "zip"]


class ReleaseSummary(BaseModel):
    release_id: str
    kind: str
    dataset: str
    created_at: str
    budget: dict
    content_hash: str
    spec: dict


def _cache(request: Request) -> FileCache:
    state = request.app.state
    if not hasattr(state, "release_files"):
        state.release_files = FileCache()
    return state.release_files


def _record(db, release_id: str):
    record = releases.get_release(db, release_id)
    if record is None:
        raise NotFound("no release with this id")
    return record


def _format(request: Request, fmt: str | None) -> str:
    if fmt is not None:
        return fmt
    accept = request.headers.get("accept", "")
    for name, media in MEDIA.items():
        if media.split(";")[0] in accept:
            return name
    return "json"


IMMUTABLE = {"Cache-Control": public_cache_control()}
"""A stored release never changes: its files may be kept by any cache (service/api/middleware/public_cache.py)."""


def _send(files, fmt: str, name: str) -> Response:
    headers = {**IMMUTABLE, "Vary": "Accept"}
    if fmt == "zip":
        return Response(files.zip(), media_type=MEDIA["zip"],
                        headers={**headers, "Content-Disposition": f'attachment; filename="{name}.zip"'})
    ext = FILE_OF[fmt].rsplit(".", 1)[1]
    return Response(files.files[FILE_OF[fmt]], media_type=MEDIA[fmt],
                    headers={**headers, "Content-Disposition": f'attachment; filename="{name}.{ext}"'})


FormatQuery = Annotated[Format | None, Query(alias="format", description="json, csv, parquet or zip (all files and the signature); default from Accept, else json")]


@router.get("/releases", response_model=PageOf[ReleaseSummary], summary="Published releases")
def list_releases(request: Request, response: Response, db: DbDep, page: PageDep,
                  kind: Annotated[ReleaseKind | None, Query(description="standard, query or week")] = None):
    items = releases.list_releases(db, kind)
    return paginated(response, request, page, items[page.offset:page.offset + page.limit], len(items))


@router.get("/releases/{release_id}", summary="One release, in the format asked",
            response_class=Response, responses={200: {"content": {m: {} for m in MEDIA.values()}}})
def get_release(release_id: ReleaseIdPath, request: Request, db: DbDep, fmt: FormatQuery = None):
    files = _cache(request).get(("release", release_id), lambda: release_files(_record(db, release_id)))
    return _send(files, _format(request, fmt), release_id)


@router.get("/releases/{release_id}/datapackage", summary="Frictionless datapackage.json",
            response_class=Response, responses={200: {"content": {"application/json": {}}}})
def get_datapackage(release_id: ReleaseIdPath, request: Request, db: DbDep):
    files = _cache(request).get(("release", release_id), lambda: release_files(_record(db, release_id)))
    return Response(files.files["datapackage.json"], media_type="application/json", headers=IMMUTABLE)


@router.get("/releases/{release_id}/signature",
            summary="Detached Ed25519 signature over the release's datapackage.json",
            response_class=Response, responses={200: {"content": {"application/octet-stream": {}}}})
def get_signature(release_id: ReleaseIdPath, request: Request, db: DbDep):
    files = _cache(request).get(("release", release_id), lambda: release_files(_record(db, release_id)))
    return Response(files.signature, media_type="application/octet-stream",
                    headers={**IMMUTABLE, "Content-Disposition": f'attachment; filename="{release_id}.datapackage.json.sig"'})


@router.get("/releases/{release_id}/areas/{level}/{code}",
            summary="One area's part of a release: zip with files, datapackage.json and signature",
            response_class=Response, responses={200: {"content": {m: {} for m in MEDIA.values()}}})
def get_area_release(release_id: ReleaseIdPath, level: RegionLevel, code: AreaCodePath, request: Request, db: DbDep,
                     settings: SettingsDep, fmt: FormatQuery = None):
    files = _cache(request).get(("area", release_id, level, code),
                                lambda: area_files(db, settings, _record(db, release_id), level, code))
    return _send(files, fmt or "zip", f"{release_id}-{level}-{code}")


@router.get("/regions/{level}/{code}/archive",
            summary="Everything published for one area, in one zip (public): a folder per "
                    "release, an index, every published week in one CSV",
            response_class=Response, responses={200: {"content": {"application/zip": {}}}})
def region_archive(level: RegionLevel, code: AreaCodePath, request: Request, db: DbDep,
                   settings: SettingsDep):
    area_members(db, level, code)                   # UnknownArea: 404
    key = private_key(settings)
    data = archive(level, code, releases.list_releases(db),
                   lambda release_id: _cache(request).get(
                       ("area", release_id, level, code),
                       lambda: area_files(db, settings, _record(db, release_id), level, code)),
                   lambda package: sign(key, package), public_pem(key))
    return Response(data, media_type=MEDIA["zip"],
                    headers={"Content-Disposition": f'attachment; filename="aanwezig-{level}-{code}.zip"'})


@router.get("/signing-key", summary="The service's Ed25519 public key (PEM)",
            response_class=Response, responses={200: {"content": {"application/x-pem-file": {}}}})
def signing_key(settings: SettingsDep):
    return Response(public_pem(private_key(settings)), media_type="application/x-pem-file")
