#!/usr/bin/env bash
# Builds ./k6 with xk6-sql and the MySQL driver, at the versions pinned in versions.env. Uses a local `xk6` when
# there is one, else the grafana/xk6 image through Docker. Needs network access (Go modules). Never run in CI
# here: the MySQL driver is AGPL-3.0, so building and distributing the binary is the user's own decision.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
# shellcheck source=versions.env
. "$here/versions.env"
out="${1:-$PWD/k6}"

args=(build "v${K6_VERSION}"
  --with "github.com/grafana/xk6-sql@v${XK6_SQL_VERSION}"
  --with "github.com/grafana/xk6-sql-driver-mysql@v${XK6_SQL_DRIVER_MYSQL_VERSION}")

if command -v xk6 >/dev/null 2>&1; then
  xk6 "${args[@]}" --output "$out"
else
  dir="$(dirname "$out")"
  docker run --rm -u "$(id -u):$(id -g)" -v "$dir:/xk6" "grafana/xk6:${XK6_VERSION}" \
    "${args[@]}" --output "/xk6/$(basename "$out")"
fi
"$out" version
echo "built $out; use it with: K6_BIN=$out npm start"
