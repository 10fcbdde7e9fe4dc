# CryptoLens image for docker-compose.yml: the package and its console script, run as an
# unprivileged user. Static files are served by the app here (put nginx in front for more).
FROM python:3.11-slim
ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 PIP_NO_CACHE_DIR=1
RUN useradd --system --create-home --home-dir /var/lib/cryptolens cryptolens
WORKDIR /src
COPY pyproject.toml README.md ./
COPY src ./src
RUN pip install . && rm -rf /src
USER cryptolens
WORKDIR /var/lib/cryptolens
ENV INSTANCE_DIR=/var/lib/cryptolens/instance HOST=0.0.0.0 PORT=5000
EXPOSE 5000
CMD ["gunicorn", "-c", "python:cryptolens.gunicorn_conf", "cryptolens:create_app()"]
