#!/usr/bin/env bash
# Compiles native/src/main/cuda/hope4j_cuda.cu with nvcc into a static archive of host code plus a
# fat binary (SASS for every requested architecture that this nvcc supports, PTX for the newest),
# which JavaCPP's Builder then links with the static CUDA runtime into the JNI library.
# Called by native/pom.xml (phase generate-resources); usable by hand:
#   native/build-kernels.sh /usr/local/cuda/bin/nvcc native/target/native "72 87 89 90"
set -euo pipefail
nvcc="$1"
out="$2"
archs="$3"
src="$(cd "$(dirname "$0")" && pwd)/src/main/cuda"

supported="$("$nvcc" --list-gpu-arch 2>/dev/null | sed -n 's/^compute_//p' | tr '\n' ' ')"
gencode=()
kept=()
dropped=()
for a in $archs; do
  if [[ " $supported " == *" $a "* ]]; then
    gencode+=("-gencode" "arch=compute_${a},code=sm_${a}")
    kept+=("$a")
  else
    dropped+=("$a")
  fi
done
if [[ ${#kept[@]} -eq 0 ]]; then
  echo "hope4j-native: none of the architectures '$archs' is supported by $nvcc (it supports: $supported)" >&2
  exit 1
fi
newest="${kept[${#kept[@]}-1]}"
gencode+=("-gencode" "arch=compute_${newest},code=compute_${newest}")
if [[ ${#dropped[@]} -gt 0 ]]; then
  echo "hope4j-native: nvcc $("$nvcc" --version | grep -o "release [0-9.]*") cannot build sm_${dropped[*]} (use that GPU's own toolkit, e.g. JetPack 5 for sm_72); building sm_${kept[*]} + PTX compute_${newest}"
else
  echo "hope4j-native: building sm_${kept[*]} + PTX compute_${newest} with nvcc $("$nvcc" --version | grep -o "release [0-9.]*")"
fi
mkdir -p "$out"
# -Xcompiler -fPIC: the archive ends up inside a shared library; -lib: a static archive of one object
"$nvcc" -std=c++17 -O3 -lib -Xcompiler -fPIC -Xcompiler -fvisibility=hidden "${gencode[@]}" \
  -I"$src" "$src/hope4j_cuda.cu" -o "$out/libhope4jcuda_kernels.a"
echo "hope4j-native: $out/libhope4jcuda_kernels.a: $(stat -c %s "$out/libhope4jcuda_kernels.a") bytes"
