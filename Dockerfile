# syntax=docker/dockerfile:1
# One image for the operator and the runner: entry point `jobscrape`.
# It holds the hash-locked runtime dependencies (requirements/runtime.txt, made by
# hack/lock.sh) and the project's wheel, nothing else: no test or dev code, no dev dependency.
# hack/build-image.sh builds it with buildah, BASE_IMAGE being a local Debian bookworm + python3.
ARG BASE_IMAGE=python:3.11-slim-bookworm

FROM ${BASE_IMAGE} AS build
WORKDIR /src
# the build backend, hash-locked too; the wheel is built without fetching anything else
COPY requirements/build.txt ./requirements/
RUN pip install --no-cache-dir --require-hashes -r requirements/build.txt
# the runtime package only: the test/dev machinery (dev/, jobscrape-dev) never enters the image
COPY pyproject.toml README.md ./
COPY operator ./operator
RUN pip wheel --no-cache-dir --no-deps --no-build-isolation --wheel-dir /dist .

FROM ${BASE_IMAGE}
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
# exactly the locked runtime set, hash-checked (a layer that changes with the lock only) ...
COPY requirements/runtime.txt /tmp/requirements.txt
RUN pip install --require-hashes -r /tmp/requirements.txt && rm -f /tmp/requirements.txt \
    && groupadd --gid 65532 jobscrape \
    && useradd --uid 65532 --gid 65532 --no-create-home --home-dir /nonexistent \
       --shell /usr/sbin/nologin jobscrape
# ... then the project's wheel alone, resolving nothing
COPY --from=build /dist/*.whl /tmp/
RUN pip install --no-deps /tmp/*.whl && rm -f /tmp/*.whl
# nothing is written outside mounted volumes: /tmp is an emptyDir, the store a PVC
USER 65532:65532
WORKDIR /var/lib/jobscrape
ENTRYPOINT ["jobscrape"]
CMD ["--help"]
