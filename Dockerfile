# The image the Helm charts run, hub and agent alike (charts/*/values.yaml: image.repository and image.tag):
#   docker build -t REGISTRY/fleetline:0.1.0 .
# Not built by `make test` (no container engine on the CI machine): tests/charts/test_dockerfile.py installs
# exactly what this file copies and checks the command, the user and the packages the charts rely on.
FROM python:3.11-slim AS build
WORKDIR /src
COPY pyproject.toml README.md ./
COPY fleetline fleetline
COPY hub hub
COPY agent agent
COPY kubesim kubesim
RUN pip install --no-cache-dir --prefix=/install .

FROM python:3.11-slim
# git: the hub mirrors the fleet repository and commits rollbacks and promotions in its working clone
RUN apt-get update && apt-get install -y --no-install-recommends git ca-certificates \
    && rm -rf /var/lib/apt/lists/*
COPY --from=build /install /usr/local
# the charts run it as this user with a read-only root filesystem: only /tmp and the mounted volumes are written
USER 65532:65532
ENV HOME=/tmp PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1
ENTRYPOINT ["fleetline"]
