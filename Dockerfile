# fazhizhen: slim, non-root, built from pyproject.toml. Browser assets come from npm in a build stage.
#   docker build -t fazhizhen .        (docker-compose.yml builds it too)

FROM node:20-slim AS assets
WORKDIR /src
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --no-audit --no-fund --loglevel=error

FROM python:3.11-slim
ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    FAZHIZHEN_HOST=0.0.0.0 \
    FAZHIZHEN_PORT=8080 \
    FAZHIZHEN_DATA_DIR=/app/var
RUN useradd --system --uid 10001 --user-group --home-dir /app --shell /usr/sbin/nologin fazhizhen
WORKDIR /app
# dependencies first (cached while only the code changes): pyproject.toml is the one source of truth
COPY pyproject.toml README.md ./
RUN mkdir fazhizhen && touch fazhizhen/__init__.py && pip install . && pip uninstall -y fazhizhen
COPY fazhizhen ./fazhizhen
COPY sql ./sql
# the browser assets where `make install` puts them (fazhizhen/web/static/vendor, git-ignored)
COPY --from=assets /src/node_modules/echarts/dist/echarts.min.js ./fazhizhen/web/static/vendor/
COPY --from=assets /src/node_modules/swagger-ui-dist/swagger-ui-bundle.js /src/node_modules/swagger-ui-dist/swagger-ui.css /src/node_modules/swagger-ui-dist/favicon-32x32.png ./fazhizhen/web/static/vendor/swagger-ui-dist/
# editable: the code reads its migrations and named queries from ./sql beside the package
RUN pip install --no-deps -e . && mkdir -p var && chown -R fazhizhen:fazhizhen var
USER fazhizhen
EXPOSE 8080
STOPSIGNAL SIGTERM
HEALTHCHECK --interval=10s --timeout=3s --start-period=20s --retries=3 \
    CMD ["python", "-c", "import urllib.request as u; u.urlopen('http://127.0.0.1:8080/readyz', timeout=2)"]
# migrate (a no-op when current; serialised by an advisory lock) then serve; exec so SIGTERM reaches Python
CMD ["sh", "-c", "fazhizhen migrate && exec fazhizhen serve"]
