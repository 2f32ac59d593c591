# Two stages: the build installs the package and its dependencies into a virtual
# environment; the runtime image gets that environment and nothing else (no pip
# cache, no build tools, no tests), and runs it as an unprivileged user.

FROM python:3.12-slim AS build
ENV PIP_NO_CACHE_DIR=1 PIP_DISABLE_PIP_VERSION_CHECK=1
RUN python -m venv /opt/venv
WORKDIR /src
COPY pyproject.toml README.md ./
COPY app ./app
# pip and setuptools install; the service never needs them, so they stay behind.
RUN /opt/venv/bin/pip install --no-cache-dir ".[tracing]" \
    && /opt/venv/bin/pip uninstall --yes pip setuptools

FROM python:3.12-slim
# HOST: the service binds 127.0.0.1 by default; in a container it must listen on every
# interface, or the published ports reach nothing.
ENV PATH=/opt/venv/bin:$PATH \
    PYTHONUNBUFFERED=1 \
    PYTHONDONTWRITEBYTECODE=1 \
    LOG_FORMAT=json \
    HOST=0.0.0.0
RUN useradd --system --uid 10001 --no-create-home --shell /usr/sbin/nologin app
COPY --from=build /opt/venv /opt/venv
USER 10001:10001
WORKDIR /tmp
# 3000: the API (ROLE=api or all). 9400: a worker's /healthz (METRICS_PORT).
EXPOSE 3000 9400
# The service drains on SIGTERM: running jobs get SHUTDOWN_GRACE seconds, the rest go back.
STOPSIGNAL SIGTERM
# Asks the role's own port: the API's /healthz, or a worker's (its heartbeat is current).
HEALTHCHECK --interval=10s --timeout=5s --start-period=20s --retries=3 \
    CMD ["python", "-m", "app", "healthcheck"]
CMD ["python", "-m", "app"]
