#!/usr/bin/env bash
# Renders src/base/options.inc (through `threadwatch options --markdown`) into README.md between the
# markers <!-- options:begin --> and <!-- options:end -->. With --check, fails if README.md differs.
set -euo pipefail
cd "$(dirname "$0")/.."
BUILD=${BUILD:-build}
[ -x "$BUILD/threadwatch" ] || cmake --build "$BUILD" --target threadwatch-cli >/dev/null
table=$("$BUILD/threadwatch" options --markdown)
new=$(python3 - "$table" <<'PY'
import sys
table = sys.argv[1]
text = open("README.md").read()
b, e = "<!-- options:begin -->", "<!-- options:end -->"
i, j = text.index(b), text.index(e)
sys.stdout.write(text[: i + len(b)] + "\n" + table + "\n" + text[j:])
PY
)
if [ "${1:-}" = "--check" ]; then
  if [ "$new" != "$(cat README.md)" ]; then
    echo "README.md's option table differs from src/base/options.inc; run scripts/gen-options-doc.sh" >&2
    diff <(printf '%s\n' "$new") README.md >&2 || true
    exit 1
  fi
  echo "README option table matches src/base/options.inc"
else
  printf '%s\n' "$new" > README.md
fi
