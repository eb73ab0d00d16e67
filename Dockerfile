# Aanwezig: the HTTP service. Secrets come from the environment only (never baked in):
#   AANWEZIG_HMAC_KEY, AANWEZIG_SIGNING_KEY, AANWEZIG_ADMIN_KEY (see docs/settings.md).
# The DuckDB database lives on the /data volume.
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1

WORKDIR /app

# Dependencies and the service, from the project's own files.
COPY pyproject.toml README.md ./
COPY privacy ./privacy
COPY service ./service
COPY sql ./sql
RUN pip install --no-cache-dir .

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
