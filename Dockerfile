# A Mutual bank node. Configuration is by environment (MUTUAL_*, see README.md, "Run a
# bioregion in Docker"); the ledger, the bank key and the admin token live in the /data volume.

# ---- dependencies: production only, installed from the lockfile --------------------------
FROM node:24-bookworm-slim AS deps
WORKDIR /app
# Only the manifests first, so that a change of the sources does not reinstall dependencies.
COPY package.json package-lock.json .npmrc ./
# Fixes to dependencies, applied by the postinstall script (patches/README.md).
COPY patches/ patches/
COPY protocol/package.json protocol/
COPY node/package.json node/
COPY tests/package.json tests/
COPY bench/package.json bench/
COPY packages/interface/package.json packages/interface/
COPY packages/crypto/package.json packages/crypto/
COPY packages/codec/package.json packages/codec/
COPY packages/merkle/package.json packages/merkle/
COPY packages/verifier/package.json packages/verifier/
COPY packages/ledger/package.json packages/ledger/
COPY packages/store/package.json packages/store/
COPY packages/mesh/package.json packages/mesh/
COPY packages/client/package.json packages/client/
COPY packages/cli/package.json packages/cli/
# Native modules (LevelDB, libsodium) come with prebuilt binaries for linux-x64/arm64 glibc.
RUN npm ci --omit=dev --no-audit --no-fund \
 # The test and benchmark workspaces are not part of the image.
 && rm -rf node_modules/@mutual/tests node_modules/@mutual/bench tests bench \
 # Prebuilt native binaries of other platforms are dead weight.
 && platform="$(node -p 'process.platform + "-" + process.arch')" \
 && find node_modules -type d -path '*/prebuilds/*' -prune ! -name "$platform" -exec rm -rf {} + \
 && npm cache clean --force

# ---- the node -------------------------------------------------------------------------
FROM node:24-bookworm-slim
# tini as PID 1: forwards SIGTERM from `docker stop` to the node, which stops cleanly.
RUN apt-get update \
 && apt-get install -y --no-install-recommends tini \
 && apt-get clean && rm -rf /var/lib/apt/lists/*
RUN groupadd --system --gid 10001 mutual \
 && useradd --uid 10001 --gid mutual --home-dir /home/mutual --create-home --shell /usr/sbin/nologin mutual \
 && mkdir /data && chown mutual:mutual /data
WORKDIR /app
COPY --from=deps /app ./
COPY package.json ./
COPY protocol protocol
COPY packages packages
COPY node node
# The `mutual` command line, for `docker compose exec <bank> mutual status`.
RUN ln -s /app/packages/cli/bin/mutual.js /usr/local/bin/mutual \
 && mutual --help >/dev/null

ENV NODE_ENV=production \
    MUTUAL_DATA=/data \
    MUTUAL_RPC=0.0.0.0:8547 \
    MUTUAL_LISTEN=/ip4/0.0.0.0/tcp/4001
VOLUME ["/data"]
# RPC (HTTP/JSON) and libp2p (the bioregion's mesh).
EXPOSE 8547 4001
USER mutual

# Ready: the ledger is open and the RPC accepts work. The port is that of MUTUAL_RPC.
HEALTHCHECK --interval=10s --timeout=5s --start-period=30s --retries=3 \
  CMD ["node", "-e", "const p=(/:(\\d+)\\/?$/.exec(process.env.MUTUAL_RPC??'')??[])[1]??'8547';fetch('http://127.0.0.1:'+p+'/readyz').then(r=>process.exit(r.ok?0:1),()=>process.exit(1))"]

STOPSIGNAL SIGTERM
ENTRYPOINT ["tini", "--"]
CMD ["node", "--max-semi-space-size=8", "--heap-growing-percent=20", "/app/node/src/main.ts"]
