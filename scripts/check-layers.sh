#!/usr/bin/env bash
# Fails when a file of a lower layer of src/ includes a header of a higher one (src/README.md: the
# layers, lowest first). Every project include names its folder ("runtime/registry.h"), so the
# check is a comparison of two ranks per #include line. Also fails on an include without a folder
# (it would hide the layer it reaches) and on a folder that is not a layer. Given a build
# directory, it also checks the links: no layer's static library (BUILD/src/libtw_LAYER.a) uses a
# symbol that only a higher layer defines (a call through a declaration written by hand).
#
#   scripts/check-layers.sh [SRC_DIR [BUILD_DIR]]     (default: src/ next to this script)
set -uo pipefail
src=${1:-"$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)/src"}
layers=(base runtime report race detect control hooks)

rank_of() { # rank_of LAYER: its index in $layers, or -1
  local i
  for i in "${!layers[@]}"; do [[ ${layers[$i]} == "$1" ]] && { echo "$i"; return; }; done
  echo -1
}

bad=0
checked=0
for dir in "$src"/*/; do
  layer=$(basename "$dir")
  own=$(rank_of "$layer")
  if [[ $own -lt 0 ]]; then
    echo "check-layers: src/$layer/ is not a layer (known: ${layers[*]})"
    bad=$((bad + 1))
    continue
  fi
  for f in "$dir"*.c "$dir"*.h "$dir"*.inc; do
    [[ -e $f ]] || continue
    checked=$((checked + 1))
    while IFS=: read -r line inc; do
      target=${inc%%/*}
      if [[ $inc != */* ]]; then
        [[ $inc == threadwatch.h ]] && continue # the public header (include/)
        echo "src/$layer/$(basename "$f"):$line: #include \"$inc\" names no layer folder"
        bad=$((bad + 1))
        continue
      fi
      r=$(rank_of "$target")
      if [[ $r -lt 0 ]]; then
        echo "src/$layer/$(basename "$f"):$line: #include \"$inc\": $target/ is not a layer"
        bad=$((bad + 1))
      elif [[ $r -gt $own ]]; then
        echo "src/$layer/$(basename "$f"):$line: #include \"$inc\" reaches up from $layer/ to $target/"
        bad=$((bad + 1))
      fi
    done < <(grep -n '^[[:space:]]*#[[:space:]]*include[[:space:]]*"' "$f" |
             sed -E 's/^([0-9]+):[[:space:]]*#[[:space:]]*include[[:space:]]*"([^"]+)".*/\1:\2/')
  done
done
if [[ $bad -gt 0 ]]; then
  echo "check-layers: $bad include(s) break the layering (${layers[*]}, lowest first)"
  exit 1
fi
echo "check-layers: $checked files, every include points to its own layer or a lower one"

build=${2:-}
[[ -n $build ]] || exit 0
libs=()
for layer in "${layers[@]}"; do
  [[ -f $build/src/libtw_$layer.a ]] && libs+=("$layer")
done
if [[ ${#libs[@]} -eq 0 ]]; then
  echo "check-layers: no layer libraries in $build/src (build first)"
  exit 1
fi
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
for layer in "${libs[@]}"; do
  nm -g --defined-only "$build/src/libtw_$layer.a" 2>/dev/null | awk 'NF == 3 { print $3 }' |
    sort -u >"$tmp/def.$layer"
  nm -g --undefined-only "$build/src/libtw_$layer.a" 2>/dev/null | awk '{ print $NF }' |
    sort -u >"$tmp/use.$layer"
done
for layer in "${libs[@]}"; do
  own=$(rank_of "$layer")
  for upper in "${libs[@]}"; do
    [[ $(rank_of "$upper") -gt $own ]] || continue
    while read -r sym; do
      echo "check-layers: libtw_$layer.a uses $sym, defined only above it in libtw_$upper.a"
      bad=$((bad + 1))
    done < <(comm -12 "$tmp/use.$layer" "$tmp/def.$upper")
  done
done
if [[ $bad -gt 0 ]]; then
  echo "check-layers: $bad symbol(s) break the layering of the libraries"
  exit 1
fi
echo "check-layers: ${#libs[@]} layer libraries, every symbol they use is defined in their layer or below"
