#!/bin/sh
# serve (default) | migrate (alembic upgrade head) | load-units | any other `python -m api.cli` command
set -e
case "$1" in
  migrate) exec alembic upgrade head ;;
  *) exec python -m api.cli "$@" ;;
esac
