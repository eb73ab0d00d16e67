"""The `aanwezig` command line. Every command that touches data takes --db
(default: $AANWEZIG_DB or ./aanwezig.duckdb)."""

from __future__ import annotations

import os
import shutil
import time
from pathlib import Path
from typing import Annotated, Optional

import typer

from service.cli_console import console   # never wraps a message nor cuts a table (cli_console.py)

app = typer.Typer(help="Aanwezig: differentially private school-attendance statistics.",
                  no_args_is_help=True, add_completion=False)

from service.keys_cli import keys_app  # noqa: E402  (aanwezig keys create|revoke|list)

app.add_typer(keys_app, name="keys")

DbOption = Annotated[Path, typer.Option("--db", envvar="AANWEZIG_DB",
                                        help="DuckDB database file")]
UrlOption = Annotated[Optional[str], typer.Option(
    "--url", envvar="AANWEZIG_URL",
    help="address of the running service (default: the one announced for --db, if any)")]
DEFAULT_DB = Path("aanwezig.duckdb")
EngineOption = Annotated[Optional[str], typer.Option(
    "--engine", help="engine for derive and the true aggregates: duckdb or spark "
    "(default: $AANWEZIG_ENGINE or duckdb)")]
SparkMasterOption = Annotated[Optional[str], typer.Option(
    "--spark-master", help="Spark master URL (default: $AANWEZIG_SPARK_MASTER or local[2])")]
LakeOption = Annotated[Optional[Path], typer.Option(
    "--lake", help="Parquet lake folder (default: $AANWEZIG_LAKE)")]
DEFAULT_YEAR = "2025-2026"
SchoolsOption = Annotated[str, typer.Option(
    help="every: fill every school at pupils/2.5M of its national size; sample: a subset of "
    "schools at national size (a small quick demo)")]


def _remote(db: Path, url: str | None):
    """A client of the running service for `db` (by --url or its announcement), or None."""
    from service.cli_remote import Client, service_url

    found = service_url(db, url)
    if found is None:
        return None
    console.print(f"the service at {found} holds {db}: going through its API", soft_wrap=True)
    return Client(found, _settings(db).admin_key)


def _open(db: Path):
    """The command's `service.db.Database`: `db` opened for writing, or say clearly who holds
    it and what to do."""
    from service.cli_remote import DatabaseBusy, open_for_writing

    try:
        return open_for_writing(db)
    except DatabaseBusy as exc:
        console.print(f"[red]refused:[/red] {exc}", soft_wrap=True)
        raise typer.Exit(code=1) from None


def _settings(db: Path, mode: str | None = None, *, serving: bool = False, **options):
    """The settings, or one line saying what is wrong and the fix (exit 2)."""
    from service import cli_startup

    return cli_startup.load(db, console, mode=mode, serving=serving, **options)


def _engine(settings, con):
    """The engine the settings name, over `con`: passed to each derive and release."""
    from service import engines

    return engines.from_settings(settings, con)


@app.command()
def synth(
    out: Annotated[Path, typer.Option(help="folder to write one sub-folder per school into")],
    pupils: Annotated[int, typer.Option(help="number of pupils (national: about 2.5 million)")] = 2_500_000,
    seed: Annotated[int, typer.Option(help="seed of the synthetic data")] = 1,
    school_year: Annotated[str, typer.Option(help="school year, e.g. 2025-2026")] = DEFAULT_YEAR,
    fmt: Annotated[str, typer.Option("--format", help="csv or parquet")] = "csv",
    schools: SchoolsOption = "every",
) -> None:
    """Write synthetic upload files for every school of the register (test data only)."""
    from service.synth.uploads import write_synthetic

    from service.cli_progress import steps

    with steps(console, "generating schools") as advance:
        summary = write_synthetic(out, pupils=pupils, seed=seed, school_year=school_year,
                                  fmt=fmt, progress=lambda d, t: advance(total=t, to=d),
                                  schools=schools)
    console.print(_written(summary, out), soft_wrap=True)


def _written(summary, folder: Path) -> str:
    """What a synth run wrote, without its exact totals of pupils and rows (the CLI prints no
    exact cross-school totals, synthetic or not)."""
    return (f"wrote {summary.files} files for {summary.schools} schools to {folder} "
            f"in {summary.seconds:.0f} s")


@app.command()
def ingest(
    files: Annotated[Optional[list[Path]], typer.Argument(help="enrolment and absence files of one batch")] = None,
    school: Annotated[Optional[str], typer.Option(help="school id (BRIN + vestiging), e.g. 12AB00")] = None,
    directory: Annotated[Optional[Path], typer.Option("--dir", help="folder with one sub-folder per school")] = None,
    db: DbOption = DEFAULT_DB,
    school_year: Annotated[Optional[str], typer.Option(help="school year (default: from the dates)")] = None,
    url: UrlOption = None,
    engine: EngineOption = None,
    spark_master: SparkMasterOption = None,
    lake: LakeOption = None,
    replace_with_empty: Annotated[bool, typer.Option(
        "--replace-with-empty", help="let a batch without enrolment rows replace a stored one")] = False,
) -> None:
    """Validate, pseudonymise and store uploads (all-or-nothing per batch; also to the Parquet
    lake when one is set), then rebuild the derived tables on the engine. While the service
    runs, the batches go through its API and the service derives them in the background
    (this command waits for that)."""
    from service import errors
    from service.ingest.batches import files_from_paths, ingest_files

    remote = _remote(db, url)
    if remote is not None:
        _ingest_remote(remote, files, school, directory, school_year, replace_with_empty)
        return
    settings = _settings(db, engine=engine, spark_master=spark_master, lake=lake)
    database = _open(db)
    con = database.con
    _ensure_register(con, database)
    years: set[str] = set()
    if directory is not None:
        if not directory.is_dir():
            console.print(f"refused: {directory} is not a folder", markup=False, highlight=False)
            raise typer.Exit(code=2)
        report = _ingest_folder(con, settings, directory, replace_with_empty)
        years = {r[0] for r in con.execute("SELECT DISTINCT school_year FROM batch").fetchall()}
        if report.refused and not sum(report.statuses.values()):
            raise typer.Exit(code=1)        # nothing stored: nothing to derive
    elif school and files:
        unreadable = [p for p in files if not p.is_file()]
        if unreadable:
            console.print(f"refused: {unreadable[0]} is not a readable file", markup=False,
                          highlight=False)
            raise typer.Exit(code=2)
        try:
            report = ingest_files(con, settings, school, files_from_paths(files), school_year,
                                  replace_with_empty=replace_with_empty, database=database)
        except errors.PUBLIC as exc:        # IngestError, UnknownSchool, …: a public message
            console.print(f"refused: {errors.public(exc)}", markup=False, highlight=False,
                          soft_wrap=True)
            raise typer.Exit(code=1)
        console.print(f"batch {report.batch_id} for {report.school_id} {report.school_year}: "
                      f"{report.status} ({report.enrolment_rows} enrolment rows, "
                      f"{report.absence_rows} absence rows)")
        if report.status == "unchanged":
            console.print("the same content was uploaded before: nothing changed")
        years = {report.school_year}
    else:
        console.print("give --school and the files of one batch, or --dir")
        raise typer.Exit(code=2)
    _derive(con, years, _engine(settings, con), database)
    if directory is not None and report.refused:
        raise typer.Exit(code=1)            # any refused batch: exit 1 (docs/upload-format.md)


def _ensure_register(con, database) -> None:
    """Load the public register shipped with the package into a database that lacks it (a
    fresh file), so `aanwezig ingest` works on it as the README shows; a database that has a
    register keeps it (`load_register` only fills an empty `area` table)."""
    from service.register.source import load_register

    if not con.execute("SELECT count(*) FROM area").fetchone()[0]:
        load_register(con, database=database)
        console.print("loaded the public register (a fresh database)")


def _ingest_remote(client, files, school, directory, school_year,
                   replace_with_empty: bool = False) -> None:
    """Send each batch to the service (POST /v1/uploads, with replace_with_empty when asked)
    and wait for the derives."""
    from service.cli_remote import ServiceError
    from service.ingest.directory import batch_folders

    if directory is not None:
        batches = [(f.name, sorted(p for p in f.iterdir() if p.suffix in (".csv", ".parquet")))
                   for f in batch_folders(directory)]
    elif school and files:
        batches = [(school, list(files))]
    else:
        console.print("give --school and the files of one batch, or --dir")
        raise typer.Exit(code=2)
    statuses: dict[str, int] = {}
    jobs, refused = [], 0
    try:
        for school_id, paths in batches:
            form = {"school": school_id, **({"school_year": school_year} if school_year else {}),
                    **({"replace_with_empty": "true"} if replace_with_empty else {})}
            status, answer = client.request("POST", "/v1/uploads", form=form,
                                            files=[(p.name, p.read_bytes()) for p in paths])
            if status >= 400:
                from service.cli_remote import problem_text
                refused += 1
                console.print(f"[red]{school_id}[/red]: {problem_text(status, answer)}")
                continue
            statuses[answer["status"]] = statuses.get(answer["status"], 0) + 1
            if answer.get("job_id"):
                jobs.append(answer["job_id"])
        console.print(f"batches: {statuses}; refused: {refused}")
        for job_id in sorted(set(jobs))[-1:] if directory is not None else jobs:
            job = client.wait_for_job(job_id)
            console.print(f"derive job {job_id}: {job['state']}"
                          + (f" in {job['seconds']} s" if job.get("seconds") is not None else "")
                          + (f" ({job['error']})" if job.get("error") else ""))
    except ServiceError as exc:
        console.print(f"[red]refused:[/red] {exc}")
        raise typer.Exit(code=1) from None
    if refused:
        raise typer.Exit(code=1)


def _ingest_folder(con, settings, directory: Path, replace_with_empty: bool = False):
    from service.ingest.directory import batch_folders, ingest_directory

    from service.cli_progress import steps

    total = len(batch_folders(directory))
    with steps(console, "ingesting batches", total) as advance:
        report = ingest_directory(con, settings, directory, progress=advance,
                                  replace_with_empty=replace_with_empty)
    # counts of batches only: totals of rows across schools would be un-noised aggregates
    for school, problem in list(report.refused.items())[:5]:
        console.print(f"{school}: {problem}", markup=False, highlight=False, soft_wrap=True)
    console.print(_folder_summary(report, total), markup=False, highlight=False, soft_wrap=True)
    return report


def _folder_summary(report, total: int) -> str:
    """One line: how many of the folder's batches were stored, unchanged, refused."""
    counts = ", ".join(f"{n} {status}" for status, n in sorted(report.statuses.items()))
    if not report.refused:
        return f"batches: {counts or 'none'}; refused: 0 of {total}"
    return (f"refused: {len(report.refused)} of {total} batches"
            + (f" ({counts}; the others are kept)" if counts else " (nothing stored)")
            + (f"; the first 5 are listed above" if len(report.refused) > 5 else ""))


def _derive(con, years, engine=None, database=None) -> None:
    from service.cli_progress import steps
    from service.ingest.derive import rebuild

    for year in sorted(years):
        with steps(console, f"deriving the per-pupil tables of {year} (chunks)") as advance:
            start = time.perf_counter()
            rebuild(con, year, progress=lambda done, total: advance(1, total), engine=engine,
                    database=database)
        # no counts: the number of pupil-years is an un-noised aggregate
        console.print(f"derived the per-pupil tables of {year} in {time.perf_counter() - start:.1f} s")


@app.command()
def demo(
    pupils: Annotated[int, typer.Option(help="synthetic pupils (the default is the country at "
                                              "true size; e.g. 25000 for a quick demo)")] = 2_500_000,
    seed: Annotated[int, typer.Option(help="seed of the synthetic data")] = 1,
    schools: SchoolsOption = "every",
    weeks: Annotated[int, typer.Option(min=0, max=40, help="weeks of the weekly series to publish")] = 12,
    db: DbOption = DEFAULT_DB,
    serve: Annotated[bool, typer.Option("--serve/--no-serve", help="serve the API and page at the end")] = True,
    host: Annotated[str, typer.Option(help="address to serve on")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="port to serve on")] = 8000,
) -> None:
    """Build a synthetic Netherlands (2.5 million pupils in all 8,420 schools by default) in a
    DuckDB file, ingest it, derive, publish, serve. Run again on its database, it serves what
    is there."""
    from service import errors
    from service.cli_progress import steps
    from service.register.source import load_register
    from service.synth.uploads import write_synthetic

    os.environ.setdefault("AANWEZIG_MODE", "demo")
    settings = _settings(db, mode="demo")
    if serve:           # the port and the database first, not after minutes of work
        from service.cli_startup import ready_to_serve

        ready_to_serve(db, host, port, console)
    database = _open(db)
    con = database.con
    load_register(con, database=database)
    in_register = con.execute("SELECT count(*) FROM school").fetchone()[0]
    console.print(f"register: {in_register} schools in {db}")
    data = db.parent / f"{db.stem}-uploads"
    already = con.execute("SELECT count(*) FROM batch").fetchone()[0]
    rebuild_hint = f"to rebuild: delete {db} and run aanwezig demo again"
    if already:
        console.print(f"{already} batches already ingested: serving what is there "
                      f"({rebuild_hint})", soft_wrap=True)
        if not _derived(con, DEFAULT_YEAR):
            _derive(con, [DEFAULT_YEAR], database=database)
    else:
        if data.exists():
            shutil.rmtree(data)
        with steps(console, f"generating {pupils:,} pupils (schools)") as advance:
            summary = write_synthetic(data, pupils=pupils, seed=seed, school_year=DEFAULT_YEAR,
                                      schools=schools,
                                      progress=lambda d, t: advance(total=t, to=d))
        console.print(_written(summary, data), soft_wrap=True)
        _ingest_folder(con, settings, data)
        shutil.rmtree(data)
        _derive(con, [DEFAULT_YEAR], database=database)
    from service.releases.standard import publish_standard

    release_id = None
    try:
        with console.status("publishing the standard release (noise, consistency, signature)"):
            stored = publish_standard(con, settings, DEFAULT_YEAR, database=database)
        release_id = stored.record.release_id
        state = "published" if stored.newly_charged else "already published"
        console.print(f"standard release {release_id} {state}")
        _demo_weeks(con, settings, weeks, database)
    except errors.PUBLIC as exc:            # e.g. the budget spent by an earlier demo
        console.print(f"not published: {errors.public(exc)}; serving what is there "
                      f"({rebuild_hint})", markup=False, highlight=False, soft_wrap=True)
    keys = _demo_keys(con, settings, database)
    database.close()
    base = f"http://{host}:{port}"
    console.print(f"\npage:     {base}/\nAPI:      {base}/v1/catalog\nOpenAPI:  {base}/v1/openapi.json")
    if release_id is not None:
        console.print(f"release:  {base}/v1/releases/{release_id}?format=csv")
    for role, secret in keys.items():
        console.print(f"demo key ({role}): {secret}", soft_wrap=True)
    console.print('send a key as header "X-API-Key"; e.g. curl -H "X-API-Key: <key>" '
                  f"{base}/v1/budget", soft_wrap=True)
    if serve:
        from service.api.app import serve as run_server
        from service.cli_remote import announce, withdraw

        announce(db, f"http://{host}:{port}")     # the writing commands use its API meanwhile
        try:
            run_server(settings, host, port)
        finally:
            withdraw(db)


def _derived(con, school_year: str) -> bool:
    """Whether `school_year`'s derived tables are there and nothing is pending for them."""
    import duckdb

    try:
        version = con.execute("SELECT count(*) FROM derived_version WHERE school_year = ?",
                              [school_year]).fetchone()[0]
        pending = con.execute("SELECT count(*) FROM derive_pending_batch WHERE school_year = ?",
                              [school_year]).fetchone()[0]
    except duckdb.CatalogException:         # never derived
        return False
    return bool(version) and not pending


def _demo_weeks(con, settings, weeks: int, database) -> None:
    """Publish the first weeks of the weekly series (each spends its planned share)."""
    try:
        from service.weekly import series as weekly
    except ImportError:  # pragma: no cover - the weekly series is optional in the demo
        return
    from service.cli_progress import steps

    with steps(console, f"publishing weeks 1-{weeks} of the weekly series", weeks) as advance:
        for week in range(1, weeks + 1):
            weekly.release_week(con, settings, DEFAULT_YEAR, week, database=database)
            advance()


def _demo_keys(con, settings, database) -> dict[str, str]:
    """One demo API key per role (shown once; stored only as a keyed hash)."""
    from service.api.auth import create_key

    school = con.execute("SELECT school_id FROM school s WHERE EXISTS (SELECT 1 FROM batch b "
                         "WHERE b.school_id = s.school_id) ORDER BY school_id LIMIT 1").fetchone()[0]
    scopes = {"school": school, "researcher": "demo-researcher", "region": "municipality:GM0363",
              "policy": None, "admin": None}
    return {f"{role} {scope or ''}".strip(): create_key(con, settings, role, scope, "demo",
                                                        database=database)[1]
            for role, scope in scopes.items()}



@app.command()
def serve(
    db: DbOption = DEFAULT_DB,
    host: Annotated[str, typer.Option(help="address to listen on")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="port to listen on")] = 8000,
) -> None:
    """Serve the HTTP API and the page with uvicorn. Announces itself for --db in
    `<db>.service.json`, so the writing commands go through its API while it runs."""
    from service.api.app import serve as run_server
    from service.cli_remote import announce, withdraw

    from service.cli_startup import ready_to_serve

    settings = _settings(db, serving=True)
    ready_to_serve(db, host, port, console)
    announce(db, f"http://{host}:{port}")
    try:
        run_server(settings, host, port)
    finally:
        withdraw(db)


@app.command()
def derive(
    school_year: Annotated[str, typer.Option(help="school year, e.g. 2025-2026")] = DEFAULT_YEAR,
    db: DbOption = DEFAULT_DB,
    engine: EngineOption = None,
    spark_master: SparkMasterOption = None,
    lake: LakeOption = None,
) -> None:
    """Rebuild the derived per-pupil tables of a school year on the engine (spark: from the
    lake's uploads, into the lake's derived/ folder)."""
    settings = _settings(db, engine=engine, spark_master=spark_master, lake=lake)
    database = _open(db)
    _derive(database.con, {school_year}, _engine(settings, database.con), database)


@app.command("lake-export")
def lake_export(
    lake: Annotated[Path, typer.Option("--lake", envvar="AANWEZIG_LAKE", help="Parquet lake folder")],
    db: DbOption = DEFAULT_DB,
) -> None:
    """Write every active batch of the database to the Parquet lake (a database that was
    filled before the lake was set; new batches are written as they are stored)."""
    from service.ingest.lake import write_all

    written = write_all(_open(db).con, lake)
    console.print(f"wrote {written} partition files to {lake}")


@app.command()
def release(
    school_year: Annotated[str, typer.Option(help="school year, e.g. 2025-2026")] = DEFAULT_YEAR,
    db: DbOption = DEFAULT_DB,
    dry_run: Annotated[bool, typer.Option("--dry-run", help="show the budget plan and expected intervals; spend nothing")] = False,
    url: UrlOption = None,
    engine: EngineOption = None,
    spark_master: SparkMasterOption = None,
    lake: LakeOption = None,
) -> None:
    """Publish the yearly standard release from the standard pool (shows the plan first); its
    true aggregates come from the engine (spark: the lake's derived tables). While the service
    runs, it publishes it as a job (POST /v1/releases/standard/...) on the service's engine."""
    from rich.table import Table

    from service.releases.standard import plan_table, publish_standard

    remote = None if dry_run else _remote(db, url)
    database = None if (dry_run or remote is not None) else _open(db)
    con = None if database is None else database.con
    settings = None if con is None else _settings(db, engine=engine, spark_master=spark_master,
                                                  lake=lake)
    # from the bounds and the budget only: the year's standard pool, or (without the database)
    # the pool a year opens with
    plan = plan_table(con, school_year, settings=settings)
    table = Table(title=f"Standard release {school_year}: budget plan (95% half-widths before reconciliation)")
    for column in plan.columns:
        table.add_column(str(column))
    for row in plan.itertuples(index=False):
        table.add_row(*[f"{v:,.4g}" if isinstance(v, float) else str(v) for v in row])
    console.print(table)
    if dry_run:
        console.print("dry run: nothing was spent")
        return
    if remote is not None:
        from service.cli_remote import ServiceError

        try:
            started = remote.ok("POST", f"/v1/releases/standard/{school_year}")
            with console.status("the service computes, signs and stores the standard release"):
                job = remote.wait_for_job(started["job_id"])
        except ServiceError as exc:
            console.print(f"[red]refused:[/red] {exc}")
            raise typer.Exit(code=1) from None
        if job["state"] != "released":
            console.print(f"[red]refused:[/red] job {job['job_id']}: {job['state']} {job.get('error') or ''}")
            raise typer.Exit(code=1)
        console.print(f"release {job['release_id']} published by the service (job {job['job_id']})")
        return
    with console.status("computing, signing and storing the standard release"):
        stored = publish_standard(con, settings, school_year, engine=_engine(settings, con),
                                  database=database)
    record = stored.record
    state = "published" if stored.newly_charged else "already published (no budget spent)"
    console.print(f"release {record.release_id} {state}; content sha256 {record.content_hash}")


@app.command()
def verify(
    download: Annotated[Path, typer.Argument(help="the downloaded zip, or the folder it was unpacked into (a release or a region's archive)")],
    public_key: Annotated[Path, typer.Option(help="the service's public key (PEM, from GET /v1/signing-key)")],
) -> None:
    """Verify a downloaded release offline: the signature over datapackage.json, the size and
    sha256 of every file it lists, and that nothing unlisted was added. Exit 1 with one line
    naming the file and the reason if it does not verify."""
    from service.releases.verification import VerificationError, verify_download

    try:
        checked = verify_download(download, public_key.read_bytes())
    except (VerificationError, OSError) as exc:
        console.print(f"NOT verified: {exc}", markup=False, highlight=False, soft_wrap=True)
        raise typer.Exit(code=1) from None
    packages = sum(name.rsplit("/", 1)[-1] == "datapackage.json" for name in checked)
    console.print(f"verified: {', '.join(checked)}" if packages == 1 else
                  f"verified: {packages} releases, {len(checked)} files", markup=False,
                  highlight=False, soft_wrap=True)


@app.command("release-week")
def release_week_command(
    school_year: Annotated[str, typer.Option(help="school year, e.g. 2025-2026")],
    week: Annotated[int, typer.Option(help="school week (1 = first school week of the year)")],
    db: DbOption = DEFAULT_DB,
    url: UrlOption = None,
) -> None:
    """Publish one week of the weekly series (spends its planned share of the weekly pool);
    through the running service's API while it runs."""
    from service import errors
    from service.weekly.series import release_week

    remote = _remote(db, url)
    if remote is not None:
        from service.cli_remote import ServiceError

        try:
            done = remote.ok("POST", f"/v1/weekly/{school_year}/weeks/{week}")
        except ServiceError as exc:
            console.print(f"[red]refused:[/red] {exc}")
            raise typer.Exit(code=1) from None
        state = "published" if done["newly_charged"] else "already published (no charge)"
        console.print(f"week {week} of {school_year}: {state} as {done['release_id']}, "
                      f"{done['micro_rho_charged']} micro-rho")
        return
    database = _open(db)
    try:
        stored = release_week(database.con, _settings(db), school_year, week, database=database)
    except errors.PUBLIC as exc:            # WeeklyError, BudgetExhausted, …
        console.print(f"[red]refused:[/red] {errors.public(exc)}")
        raise typer.Exit(code=1)
    finally:
        database.close()
    state = "published" if stored.newly_charged else "already published (no charge)"
    console.print(f"week {week} of {school_year}: {state} as {stored.record.release_id}, "
                  f"{stored.record.micro} micro-rho")



@app.command()
def evaluate(
    db: DbOption = DEFAULT_DB,
    out: Annotated[Path, typer.Option(help="folder for report.html, the PNGs, CSV and JSON")] = Path("evaluation"),
    school_year: Annotated[str, typer.Option(help="school year, e.g. 2025-2026")] = DEFAULT_YEAR,
    draws: Annotated[int, typer.Option(help="independent DP releases at the default budget")] = 20,
    other_draws: Annotated[int, typer.Option(help="independent DP releases at the other budgets")] = 20,
) -> None:
    """Noise versus the fewer-than-five rule on a SYNTHETIC database: suppression (with
    complementary suppression) and DP releases at three budgets, measured against the truth
    and attacked. The report uses true counts, so it runs only in demo or dev mode
    (AANWEZIG_MODE=demo|dev) AND on a school year whose active batches all came from a folder
    that `aanwezig synth` or `demo` wrote (the marker in the database), never on real data."""
    from service.db import connect

    from service.evaluation.figures import ChartsNotInstalled, require_charts, write_report
    from service.evaluation.report import evaluate as run_evaluation
    from service.ingest.directory import synthetic_only

    try:
        require_charts()
    except ChartsNotInstalled as exc:
        console.print(f"refused: {exc}", markup=False, highlight=False, soft_wrap=True)
        raise typer.Exit(code=2) from None

    if os.environ.get("AANWEZIG_MODE") not in ("demo", "dev"):
        console.print("[red]refused:[/red] evaluate compares with the true counts; synthetic data "
                      "only: set AANWEZIG_MODE=demo (or dev)")
        raise typer.Exit(code=1)
    if not db.exists():
        console.print(f"[red]refused:[/red] no database at {db}")
        raise typer.Exit(code=1)
    con = connect(db, read_only=True)
    if not synthetic_only(con, school_year):
        con.close()
        console.print(f"[red]refused:[/red] evaluate compares with the true counts; the batches of "
                      f"{school_year} in {db} are not all synthetic (only data ingested from a "
                      "folder that aanwezig synth or demo wrote is marked synthetic)")
        raise typer.Exit(code=1)
    try:
        with console.status("suppressing, releasing and attacking"):
            ev = run_evaluation(con, school_year, draws=draws, other_draws=other_draws)
    finally:
        con.close()
    paths = write_report(ev, out, command=f"aanwezig evaluate --db {db} --out {out} --school-year "
                                          f"{school_year} --draws {draws} --other-draws {other_draws}")
    console.print(f"report: {paths['html']}")
    console.print(ev.headline)


if __name__ == "__main__":
    app()
