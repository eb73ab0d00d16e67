# Aanwezig: the HTTP service. Secrets come from the environment only (never baked in):
#   AANWEZIG_HMAC_KEY, AANWEZIG_SIGNING_KEY, AANWEZIG_ADMIN_KEY (see docs/settings.md).
# The DuckDB database lives on the /data volume.
#
# The base image is pinned by digest: the multi-platform index of the official
# python:3.11-slim-bookworm (Python 3.11.16, Debian 12), so every build starts from the same
# bytes. To move it to a newer patch release, look up the tag's current digest with
#   docker buildx imagetools inspect python:3.11-slim-bookworm
# (the "Digest:" line), put it after "@sha256:" below, rebuild and run the tests.
FROM python:3.11-slim-bookworm@sha256:a36c24f9cbdf4fd0f52d67f0823eeac19c2028c637cecc392d97f980d4fec56b

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1

WORKDIR /app

# Every dependency exactly as locked: versions and the sha256 of every file (pip refuses
# anything else). README.md, "Container", says how to regenerate the lock.
COPY requirements.lock ./
RUN pip install --no-cache-dir --require-hashes --no-deps -r requirements.lock

# The service itself, built with the locked setuptools; nothing is resolved again, and
# pip check fails the build if the lock missed a dependency.
COPY pyproject.toml README.md ./
COPY privacy ./privacy
COPY service ./service
COPY sql ./sql
RUN pip install --no-cache-dir --no-deps --no-build-isolation . \
    && pip check

RUN groupadd --system --gid 10001 aanwezig \
    && useradd --system --uid 10001 --gid 10001 --home-dir /app --shell /usr/sbin/nologin aanwezig \
    && mkdir /data \
    && chown 10001:10001 /data

USER 10001:10001

ENV AANWEZIG_DB=/data/aanwezig.duckdb
VOLUME /data
EXPOSE 8000

HEALTHCHECK --interval=30s --timeout=5s --start-period=30s --retries=3 \
    CMD ["python", "-c", "import sys, urllib.request; sys.exit(0 if urllib.request.urlopen('http://127.0.0.1:8000/v1/health', timeout=4).status == 200 else 1)"]

CMD ["aanwezig", "serve", "--host", "0.0.0.0", "--port", "8000"]
