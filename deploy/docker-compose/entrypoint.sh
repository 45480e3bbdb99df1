#!/bin/sh
# Export every file in $SECRETS_DIR (default /run/secrets, where compose mounts `secrets:`)
# as an environment variable named after the file in upper case, then exec the command.
# Dagster's instance config and the pipeline read credentials from env vars only; keeping
# them in secret files keeps them out of compose YAML, env files and `docker inspect`.
set -eu
dir="${SECRETS_DIR:-/run/secrets}"
if [ -d "$dir" ]; then
  for file in "$dir"/*; do
    [ -f "$file" ] || continue
    name=$(basename "$file" | tr '[:lower:]-' '[:upper:]_')
    case "$name" in
      ''|[0-9]*|*[!A-Z0-9_]*) echo "ceramic-entrypoint: ignoring $file (not a variable name)" >&2; continue ;;
    esac
    value=$(cat "$file")  # $(...) drops the trailing newline editors add
    export "$name=$value"
  done
fi
exec "$@"
