# Stand-in for jaegertracing/all-in-one (not packaged by Debian): it takes OTLP/HTTP traces on
# 4318 as Jaeger's collector does, and on 16686 answers GET /stats with what it received, so the
# container test can see that spans leave the services.
ARG NODE_IMAGE=local/node:24-bookworm-slim
FROM ${NODE_IMAGE}
COPY otlp-sink.mjs /otlp-sink.mjs
USER node
EXPOSE 4318 16686
ENTRYPOINT ["node", "/otlp-sink.mjs"]
