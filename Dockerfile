# Production image: slim, non-root, dependencies from the pinned versions in pyproject.toml.
#   docker build -t giamngheo-api .
#   docker run --rm -e DATABASE_URL=postgresql+asyncpg://... giamngheo-api migrate   # alembic upgrade head
#   docker run --rm -p 8000:8000 -e DATABASE_URL=... -e WEB_CONCURRENCY=4 giamngheo-api
FROM python:3.11-slim AS build
ENV PIP_NO_CACHE_DIR=1 PIP_DISABLE_PIP_VERSION_CHECK=1
WORKDIR /src
COPY pyproject.toml README.md ./
COPY api ./api
RUN python -m venv /opt/venv && /opt/venv/bin/pip install .

FROM python:3.11-slim
ENV PATH=/opt/venv/bin:$PATH PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 \
    HOST=0.0.0.0 PORT=8000 WEB_CONCURRENCY=2
RUN useradd --create-home --uid 10001 app
WORKDIR /app
COPY --from=build /opt/venv /opt/venv
COPY alembic.ini ./
COPY db ./db
COPY api ./api
COPY docker-entrypoint.sh /usr/local/bin/docker-entrypoint.sh
USER app
EXPOSE 8000
HEALTHCHECK --interval=30s --timeout=3s CMD python -c "import urllib.request,os; urllib.request.urlopen(f'http://127.0.0.1:{os.environ[\"PORT\"]}/healthz')"
ENTRYPOINT ["docker-entrypoint.sh"]
CMD ["serve"]
