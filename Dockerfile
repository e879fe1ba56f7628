# The production image of the standalone server: `docker build -t pg-achievements .`, then run it with
# DATABASE_URL, JWT_SECRET and AUTHENTICATOR_PASSWORD (see docker-compose.yml and the README's Docker section).
# Two stages: the first compiles the TypeScript with every dependency; the second holds production
# dependencies only and the compiled build, and starts without npm and without the network.

FROM node:22-bookworm-slim AS build
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund
COPY tsconfig.json tsconfig.build.json ./
COPY src ./src
COPY plugins ./plugins
RUN npm run build
# postgraphile and graphql are peer dependencies of the library (a team's own server brings them), so the
# lock file marks them dev-only; the standalone server needs them: make them production dependencies of the
# image, at the versions locked (the lock file is only re-flagged, nothing is resolved anew).
RUN node -e ' \
      const fs = require("fs"); \
      const pkg = require("./package.json"); \
      for (const name of Object.keys(pkg.peerDependencies ?? {})) { \
        pkg.dependencies[name] = pkg.devDependencies?.[name] ?? pkg.peerDependencies[name]; \
        delete pkg.devDependencies?.[name]; \
      } \
      delete pkg.peerDependencies; \
      fs.writeFileSync("package.json", JSON.stringify(pkg, null, 2) + "\n");' \
 && npm install --package-lock-only --no-audit --no-fund

FROM node:22-bookworm-slim
ENV NODE_ENV=production \
    HOST=0.0.0.0 \
    PORT=5678
WORKDIR /app
COPY --from=build /app/package.json /app/package-lock.json ./
RUN npm ci --omit=dev --no-audit --no-fund && npm cache clean --force
COPY --from=build /app/dist ./dist
COPY .gmrc catalog.schema.json ./
COPY migrations ./migrations
COPY demo ./demo
USER node
EXPOSE 5678
# Healthy when GET / answers (plugins/front-page.ts); the slim image has no curl, Node has fetch.
HEALTHCHECK --interval=10s --timeout=3s --start-period=60s \
  CMD ["node", "-e", "fetch(`http://127.0.0.1:${process.env.PORT}/`).then((r) => process.exit(r.ok ? 0 : 1), () => process.exit(1))"]
# SIGTERM (docker stop) closes the server in order; node as PID 1 gets it directly (no npm, no shell).
CMD ["node", "dist/src/cli.js", "start"]
