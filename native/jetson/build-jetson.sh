#!/usr/bin/env bash
# Builds Hope4J's CUDA engine and ONNX Runtime's Java GPU build on a Jetson (JetPack, aarch64), with
# JetPack's own CUDA. Run it on the Jetson itself (or in an l4t container of the same JetPack).
#
#   native/jetson/build-jetson.sh [--arch 87] [--ort-version 1.23.2] [--skip-ort] [--out DIR]
#
# Why JetPack's CUDA: the org.bytedeco:cuda presets' linux-arm64 CUDA is a server-Arm (SBSA) build and
# must not be loaded on Orin/Xavier; the iGPU needs the L4T CUDA that JetPack installs in /usr/local/cuda.
# Hope4J's JNI library links that toolkit's libcudart_static.a, so nothing of CUDA is loaded at run time
# except the L4T driver (libcuda.so from /usr/lib/aarch64-linux-gnu/tegra).
#
# Output in --out (default ./jetson-out): hope4j.jar (runnable, CUDA engine inside), and unless --skip-ort,
# onnxruntime-<version>.jar (Java + libonnxruntime with the CUDA and TensorRT execution providers), which
# replaces the CPU-only ONNX Runtime on the class path:
#   java -cp onnxruntime-<version>.jar:hope4j.jar org.hope4j.device.Main info --json --graph-provider tensorrt
set -euo pipefail

arch=87            # Orin; 72 for Xavier (JetPack 5, CUDA 11.4, is the last to support it)
ort_version=1.23.2
skip_ort=0
out="$(pwd)/jetson-out"
while [[ $# -gt 0 ]]; do
  case "$1" in
    --arch) arch="$2"; shift 2 ;;
    --ort-version) ort_version="$2"; shift 2 ;;
    --skip-ort) skip_ort=1; shift ;;
    --out) out="$2"; shift 2 ;;
    -h|--help) sed -n '2,20p' "$0"; exit 0 ;;
    *) echo "unknown option $1" >&2; exit 2 ;;
  esac
done

repo="$(cd "$(dirname "$0")/../.." && pwd)"
cuda_home="${CUDA_HOME:-/usr/local/cuda}"
[[ "$(uname -m)" == "aarch64" ]] || { echo "build-jetson.sh: run this on the Jetson (aarch64), found $(uname -m)" >&2; exit 1; }
[[ -x "$cuda_home/bin/nvcc" ]] || { echo "build-jetson.sh: no nvcc at $cuda_home/bin/nvcc (install JetPack's cuda-toolkit, or set CUDA_HOME)" >&2; exit 1; }
[[ -f "$cuda_home/lib64/libcudart_static.a" ]] || { echo "build-jetson.sh: $cuda_home/lib64/libcudart_static.a is missing" >&2; exit 1; }
if [[ -f /etc/nv_tegra_release ]]; then
  echo "L4T: $(head -1 /etc/nv_tegra_release)"
else
  echo "warning: /etc/nv_tegra_release not found: this does not look like a Jetson (L4T) system" >&2
fi
echo "CUDA: $("$cuda_home/bin/nvcc" --version | grep -o 'release [0-9.]*'), sm_$arch"
mkdir -p "$out"

# 1. Hope4J with the CUDA engine: JavaCPP's linux-arm64 platform, JetPack's toolkit, one architecture
(cd "$repo" && mvn -B -Pcuda -Djavacpp.platform=linux-arm64 -Dcuda.home="$cuda_home" -Dcuda.archs="$arch" \
    -DskipTests install)
cp "$repo/device/target/hope4j.jar" "$out/hope4j.jar"
so="$repo/native/target/classes/org/hope4j/engine/cuda/linux-arm64/libjnihope4jcuda.so"
echo "JNI library: $so ($(stat -c %s "$so") bytes)"

# 2. ONNX Runtime's Java package with the CUDA and TensorRT providers, built against JetPack's CUDA,
#    cuDNN and TensorRT (the published onnxruntime_gpu jar has no linux-aarch64 natives)
if [[ $skip_ort -eq 0 ]]; then
  src="$out/onnxruntime-src"
  if [[ ! -d "$src" ]]; then
    git clone --recursive --depth 1 --branch "v$ort_version" https://github.com/microsoft/onnxruntime "$src"
  fi
  (cd "$src" && ./build.sh --config Release --update --build --parallel --build_java --skip_tests \
      --use_cuda --cuda_home "$cuda_home" --cudnn_home /usr/lib/aarch64-linux-gnu \
      --use_tensorrt --tensorrt_home /usr/lib/aarch64-linux-gnu \
      --cmake_extra_defines "CMAKE_CUDA_ARCHITECTURES=$arch" onnxruntime_BUILD_UNIT_TESTS=OFF)
  jar="$(ls "$src"/build/Linux/Release/java/build/libs/onnxruntime-*.jar | grep -v -e sources -e javadoc | head -1)"
  cp "$jar" "$out/onnxruntime-$ort_version.jar"
  echo "ONNX Runtime: $out/onnxruntime-$ort_version.jar"
fi

# 3. smoke test: the engine reports its device (or why not), ONNX Runtime its providers
java -Dorg.bytedeco.javacpp.cachedir="$out/javacpp-cache" \
  -cp "$( [[ $skip_ort -eq 0 ]] && echo "$out/onnxruntime-$ort_version.jar:" )$out/hope4j.jar" \
  org.hope4j.device.Main info --json --graph-provider cuda
