# One image for every Triad service; pick the service with the SERVICE build arg or by overriding the command
# (docker-compose.yml does the latter). Build: docker build --build-arg SERVICE=planner -t triad .

FROM node:24 AS build
WORKDIR /app
COPY . .
RUN npm install --no-audit --no-fund && npm run build && npm prune --omit=dev --no-audit --no-fund

FROM node:24-slim AS runtime
ARG SERVICE=planner
ENV NODE_ENV=production TRIAD_SERVICE=${SERVICE} TRIAD_WORKSPACE=/data/workspace
WORKDIR /app
COPY --from=build --chown=node:node /app /app
RUN mkdir -p /data/workspace && chown node:node /data/workspace
USER node
# The telemetry preload starts tracing before the service imports anything it instruments.
CMD ["sh", "-c", "exec node --enable-source-maps --import ./libs/shared/dist/telemetry/register.js services/${TRIAD_SERVICE}/dist/main.js"]
