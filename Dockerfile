# Tagih worker + API on a current Node LTS. External PostgreSQL and Temporal are required
# (DATABASE_URL, TEMPORAL_ADDRESS); see docker-compose.yml.
FROM node:24-bookworm-slim
WORKDIR /app
ENV NODE_ENV=production
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund
COPY . .
RUN DATABASE_URL=postgres://build@localhost:5432/build npx prisma generate
EXPOSE 3000
# Migrations are applied at start-up (idempotent), then the worker and the API run.
CMD ["node", "--import", "tsx", "runtime/main.ts"]
