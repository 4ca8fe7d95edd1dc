# Lupa's image: Airflow 3, the DAGs and every Lupa module, installed from uv.lock.
# The same image runs every Airflow component (docker-compose.yml picks the command).
FROM python:3.11-slim-bookworm

ARG UV_VERSION=0.13.9
ARG LUPA_UID=50000
ENV PYTHONUNBUFFERED=1 \
    UV_COMPILE_BYTECODE=1 \
    UV_LINK_MODE=copy \
    UV_PYTHON_DOWNLOADS=never \
    AIRFLOW_HOME=/opt/airflow \
    LUPA_HOME=/var/lib/lupa \
    PATH=/opt/lupa/.venv/bin:$PATH

# curl for the health checks; libgomp1 for DuckDB's extensions.
RUN apt-get update -q \
    && apt-get install -y -q --no-install-recommends curl libgomp1 \
    && rm -rf /var/lib/apt/lists/* \
    && pip install --no-cache-dir "uv==${UV_VERSION}" \
    && useradd --uid "${LUPA_UID}" --gid 0 --create-home --home-dir /home/lupa lupa

WORKDIR /opt/lupa
# Dependencies first (a layer that changes only with the lock), then the project itself.
COPY pyproject.toml uv.lock README.md ./
RUN uv sync --frozen --no-dev --no-install-project
COPY audit ./audit
COPY dags ./dags
COPY expectations ./expectations
COPY lupa ./lupa
COPY plugins ./plugins
COPY reports ./reports
COPY scrapers ./scrapers
COPY testbed ./testbed
COPY warehouse ./warehouse
RUN uv sync --frozen --no-dev \
    && mkdir -p /opt/airflow /var/lib/lupa/warehouse /var/lib/lupa/runs \
                /var/lib/lupa/reports \
    && chown -R "${LUPA_UID}:0" /opt/airflow /var/lib/lupa

ENV AIRFLOW__CORE__DAGS_FOLDER=/opt/lupa/dags \
    AIRFLOW__CORE__PLUGINS_FOLDER=/opt/lupa/plugins \
    AIRFLOW__CORE__LOAD_EXAMPLES=False \
    LUPA_WAREHOUSE=/var/lib/lupa/warehouse/lupa.duckdb \
    LUPA_REPORTS_DIR=/var/lib/lupa/reports

USER ${LUPA_UID}
EXPOSE 8080
CMD ["airflow", "version"]
