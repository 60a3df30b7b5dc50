#!/bin/sh
# Entry point of the layerscope sample image (busybox sh).
set -eu
echo "mode: ${APP_MODE:-unset}"
for f in /app/*; do
    printf '%s\n' "$f"
done
