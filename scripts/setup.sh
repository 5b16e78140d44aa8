#!/bin/sh
# Installs what sfm needs on a fresh machine: pnpm, then the workspace's dependencies.
# better-sqlite3 compiles from source where no prebuilt binary can be downloaded; node-gyp then
# needs Node's headers, which Debian's nodejs puts under /usr (pnpm does not pass a project
# .npmrc's nodedir on, so it is exported here).
set -e
cd "$(dirname "$0")/.."
if [ -z "${npm_config_nodedir:-}" ] && [ -f /usr/include/node/node.h ]; then
  export npm_config_nodedir=/usr
fi
command -v pnpm >/dev/null 2>&1 || npm i -g pnpm
pnpm install --frozen-lockfile
