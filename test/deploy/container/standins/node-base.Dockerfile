# A Node 24 base like the official node:24-bookworm-slim, made without a registry: Debian's minbase
# (debootstrap), the Node 24 binary the `node` npm package installs, the machine's npm, and the
# `node` user (uid 1000) the official image has and deploy/Dockerfile runs as.
ARG DEBIAN_IMAGE=local/debian:bookworm
FROM ${DEBIAN_IMAGE}
COPY node /usr/local/bin/node
COPY npm /usr/local/lib/node_modules/npm
RUN ln -s ../lib/node_modules/npm/bin/npm-cli.js /usr/local/bin/npm \
 && ln -s ../lib/node_modules/npm/bin/npx-cli.js /usr/local/bin/npx \
 && groupadd --gid 1000 node \
 && useradd --uid 1000 --gid node --shell /bin/bash --create-home node \
 && node --version && npm --version
CMD ["node"]
