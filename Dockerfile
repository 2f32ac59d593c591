# First working form; hardened (multi-stage, healthchecks, hadolint) in a later step.
FROM python:3.12-slim
ENV PYTHONUNBUFFERED=1 PYTHONDONTWRITEBYTECODE=1 PIP_NO_CACHE_DIR=1 LOG_FORMAT=json
WORKDIR /srv
COPY pyproject.toml README.md ./
COPY app ./app
RUN pip install --no-cache-dir . && useradd --system --uid 10001 app
USER app
EXPOSE 3000
STOPSIGNAL SIGTERM
CMD ["python", "-m", "app"]
