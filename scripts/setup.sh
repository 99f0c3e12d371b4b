#!/usr/bin/env bash
# Installs what the build and the tests need on a fresh Debian/Ubuntu machine, then builds.
# Idempotent: anything already present is left alone.
set -euo pipefail
cd "$(dirname "$0")/.."

SUDO=""
if [ "$(id -u)" != "0" ] && command -v sudo >/dev/null; then SUDO="sudo"; fi

if ! pkg-config --exists rdkafka 2>/dev/null; then
  echo "setup: installing librdkafka-dev (Kafka client library)"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq librdkafka-dev pkg-config >/dev/null
fi
if ! python3 -c 'import jsonschema' 2>/dev/null; then
  echo "setup: installing the python3 jsonschema package (schema checks in the tests)"
  python3 -m pip install -q jsonschema 2>/dev/null || { $SUDO apt-get install -y -qq python3-jsonschema >/dev/null; }
fi
if ! command -v chromium >/dev/null && ! command -v chromium-browser >/dev/null; then
  echo "setup: installing chromium (the dashboard's headless-browser test)"
  { $SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq chromium >/dev/null; } \
    || echo "setup: could not install chromium; the dashboard browser test will say it skipped" >&2
fi
if ! command -v swift >/dev/null; then
  echo "setup: no Swift toolchain on PATH (need Swift 6.x): https://www.swift.org/install" >&2
  exit 1
fi
swift build --build-tests "$@"
