# Tagih worker + API on a current Node LTS. External PostgreSQL and Temporal are required
# (DATABASE_URL, TEMPORAL_ADDRESS); see docker-compose.yml.

# Build: dependencies with the tools that only build (TypeScript), the fixes in patches/ (as
# setup applies them after npm ci), the Prisma client, the product compiled to dist/ and the
# workflow bundle; then the build-only dependencies are dropped.
FROM node:24-bookworm-slim AS build
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund
COPY . .
RUN npx patch-package --error-on-fail
RUN DATABASE_URL=postgres://build@localhost:5432/build npx prisma generate
RUN npm run build
# Built once here instead of at every start.
RUN node dist/runtime/workflow-bundle.js /app/workflows.bundle.js
RUN npm prune --omit=dev --no-audit --no-fund

FROM node:24-bookworm-slim
WORKDIR /app
ENV NODE_ENV=production
# The sources stay next to dist/: migrations, routines and shipped templates are read from them.
COPY --from=build /app /app
ENV TAGIH_WORKFLOW_BUNDLE=/app/workflows.bundle.js
EXPOSE 3000
# Migrations are applied at start-up (idempotent, with the Prisma CLI, a dependency for that
# reason), then the worker and the API run. The memory settings are those of `npm start`
# (README, "Worker memory").
ENV MALLOC_ARENA_MAX=2
CMD ["node", "--max-old-space-size=512", "--max-semi-space-size=4", "dist/runtime/main.js"]
