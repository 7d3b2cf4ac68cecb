# syntax=docker/dockerfile:1
# One image for the operator and the runner: entry point `jobscrape`.

FROM python:3.11-slim-bookworm AS build
WORKDIR /src
RUN pip install --no-cache-dir build==1.2.2
# the runtime package only: the test/dev machinery (dev/, jobscrape-dev) never enters the image
COPY pyproject.toml README.md ./
COPY operator ./operator
RUN python -m build --wheel --outdir /dist

FROM python:3.11-slim-bookworm
ARG VERSION=0.1.0
LABEL org.opencontainers.image.title="jobscrape" \
      org.opencontainers.image.description="Kubernetes operator for scheduled job-board scraping" \
      org.opencontainers.image.version="${VERSION}" \
      org.opencontainers.image.source="https://github.com/jobscrape/jobscrape" \
      org.opencontainers.image.licenses="Apache-2.0"
ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1
COPY --from=build /dist/*.whl /tmp/
RUN pip install /tmp/*.whl && rm -f /tmp/*.whl \
    && groupadd --gid 65532 jobscrape \
    && useradd --uid 65532 --gid 65532 --no-create-home --home-dir /nonexistent \
       --shell /usr/sbin/nologin jobscrape
# nothing is written outside mounted volumes: /tmp is an emptyDir, the store a PVC
USER 65532:65532
WORKDIR /var/lib/jobscrape
ENTRYPOINT ["jobscrape"]
CMD ["--help"]
