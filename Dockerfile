# Images built from the checkout, never a shared writable mount: dependencies are installed at
# build time into the image, and each service runs as the unprivileged `node` user on a
# read-only copy of the code. Two targets: `app` (provider and migrations) and `custodian`,
# which carries no views, models or face pipeline — only what holds and uses the keys.
FROM node:24-bookworm-slim AS deps
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --omit=dev

FROM node:24-bookworm-slim AS code
WORKDIR /app
COPY --from=deps /app/node_modules ./node_modules
COPY package.json tsconfig.json ./
COPY bin ./bin
COPY src ./src
COPY migrations ./migrations

FROM code AS custodian
# The KEK epoch store's mount point (CUSTODIAN_KEY_DIR): a new named volume takes this owner and
# mode, so only the custodian's user can read it.
RUN install -d -o node -g node -m 700 /custodian-keys
USER node
CMD ["node", "src/custodian/server.ts"]

FROM code AS app
COPY views ./views
COPY models ./models
USER node
CMD ["node", "src/main.ts"]
