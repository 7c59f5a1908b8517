# Tagih worker + API on a current Node LTS. External PostgreSQL and Temporal are required
# (DATABASE_URL, TEMPORAL_ADDRESS); see docker-compose.yml.
FROM node:24-bookworm-slim
WORKDIR /app
ENV NODE_ENV=production
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund
COPY . .
# Fixes to dependencies (patches/, see the README's Layout), as setup applies them after npm ci.
RUN npx patch-package --error-on-fail
RUN DATABASE_URL=postgres://build@localhost:5432/build npx prisma generate
# The workflow bundle is built once here instead of at every start.
RUN npm run build:workflows -- /app/workflows.bundle.js
ENV TAGIH_WORKFLOW_BUNDLE=/app/workflows.bundle.js
EXPOSE 3000
# Migrations are applied at start-up (idempotent), then the worker and the API run.
# The memory settings are those of `npm start` (README, "Worker memory").
ENV MALLOC_ARENA_MAX=2
CMD ["node", "--max-old-space-size=512", "--max-semi-space-size=4", "--import", "tsx", "runtime/main.ts"]
