#!/usr/bin/env bash
# The CUDA engine's check on a GPU machine that has a driver and the CUDA toolkit but no Java (issue 16).
#
#   native/gpu-check.sh prepare   here (JDK 17+, Maven): records the engine trace, the CPU engine's answers to a schedule
#                                 of engine calls (EngineTrace.java), and the CPU engine's time per learning span, into
#                                 native/target/gpu-check (about 22 MB; carry that folder to the GPU machine)
#   native/gpu-check.sh run       there (or here, with NVCC=../shared/tools/cuda-emu/nvcc): builds the kernels and the
#                                 replay (gpu-check/gpu_check.cpp) with that machine's nvcc, then runs, each under a
#                                 timeout so the whole fits in 10 minutes: parity against the trace, the benchmark,
#                                 many learners sharing the GPU (LEARNERS, default "8 32"), compute-sanitizer (memcheck,
#                                 racecheck, synccheck, initcheck) and ncu where present.
#                                 Results in $OUT (default native/target/gpu-check-out): gpu-check.json (the summary),
#                                 parity.json, bench.json, learners.json, sanitizer.log, ncu.txt, build.log.
# Environment: NVCC (default $CUDA_HOME/bin/nvcc), CUDA_HOME (/usr/local/cuda), ARCHS (default: the GPU's own compute
# capability from nvidia-smi, else 90), REPEATS (timed passes over the trace's learning spans, default 20), LEARNERS.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/.." && pwd)"
dir="$here/target/gpu-check"
cmd="${1:-}"

prepare() {
  command -v mvn >/dev/null || { echo "gpu-check prepare: needs Maven and a JDK (run it where the project builds)" >&2; exit 2; }
  # the runtime into the local repository (the classpath below reads it from there); the native module's Java
  # compiled on its own (a Maven build of the module would run nvcc, which the trace does not need)
  (cd "$root" && mvn -B -ntp -q install -pl runtime -am -DskipTests)
  local cp classes
  cp="$(mktemp)"
  (cd "$root" && mvn -B -ntp -q dependency:build-classpath -pl native -Dmdep.outputFile="$cp" -Dmdep.includeScope=runtime)
  mkdir -p "$dir"
  classes="$(mktemp -d)"
  javac -nowarn -d "$classes" -cp "$(cat "$cp")" $(find "$here/src/main/java" -name '*.java')
  java --add-modules jdk.incubator.vector -cp "$classes:$(cat "$cp")" org.hope4j.engine.cuda.EngineTrace "$dir/trace.bin" "$dir/cpu-engine.json" 8
  rm -rf "$cp" "$classes"
  echo "gpu-check: $dir ready ($(du -sh "$dir" | cut -f1)); on the GPU machine: native/gpu-check.sh run"
}

run() {
  [[ -f "$dir/trace.bin" ]] || { echo "gpu-check run: no $dir/trace.bin; run 'native/gpu-check.sh prepare' first (where Java builds) and carry $dir" >&2; exit 2; }
  local cuda="${CUDA_HOME:-/usr/local/cuda}"
  local nvcc="${NVCC:-$cuda/bin/nvcc}"
  if [[ -z "${NVCC:-}" && ! -x "$nvcc" ]] && command -v nvcc >/dev/null; then
    nvcc="$(command -v nvcc)"  # a toolkit elsewhere on PATH: its runtime library lies beside it
    cuda="$(cd "$(dirname "$(readlink -f "$nvcc")")/.." && pwd)"
  fi
  local out="${OUT:-$here/target/gpu-check-out}" build="$here/target/gpu-check-build"
  local repeats="${REPEATS:-20}"
  mkdir -p "$out" "$build"
  local emu=0
  if "$nvcc" --version 2>/dev/null | grep -q "CPU emulation"; then
    emu=1
  fi
  local archs="${ARCHS:-}"
  if [[ -z "$archs" ]]; then
    archs="$(nvidia-smi --query-gpu=compute_cap --format=csv,noheader 2>/dev/null | head -1 | tr -d '. ' || true)"
    archs="${archs:-90}"
  fi
  echo "== build (nvcc $nvcc, sm_$archs, emulated: $emu)"
  {
    bash "$here/build-kernels.sh" "$nvcc" "$build" "$archs"
    local link=(-lpthread)
    if [[ $emu -eq 0 ]]; then
      link=(-L"$cuda/lib64" -L"$cuda/lib" -lcudart_static -ldl -lrt -lpthread)
    fi
    g++ -std=c++17 -O2 -I"$here/src/main/cuda" "$here/gpu-check/gpu_check.cpp" "$build/libhope4jcuda_kernels.a" "${link[@]}" \
      -o "$build/gpu_check"
  } > "$out/build.log" 2>&1 || { cat "$out/build.log"; exit 1; }
  local bin="$build/gpu_check" trace="$dir/trace.bin"
  local parity_rc=0 bench_rc=0
  echo "== parity"
  local ptime=120
  [[ $emu -eq 0 ]] || ptime=900  # the emulator runs the kernels on the CPU: 4-7 minutes on 2 cores (whole spans included)
  timeout "$ptime" "$bin" "$trace" parity > "$out/parity.json" || parity_rc=$?
  cat "$out/parity.json"
  echo "== bench"
  if [[ $emu -eq 1 ]]; then
    repeats=1  # the emulator's times mean nothing; this only proves the mode runs
  fi
  timeout $((ptime * 2)) "$bin" "$trace" bench "$repeats" > "$out/bench.json" || bench_rc=$?
  cat "$out/bench.json"
  # many learners at once, each on its own host thread: on a GPU only (the emulator is one host thread; LEARNERS=1
  # runs the mode there)
  local learners="${LEARNERS:-8 32}" lrep=5 ltime=60
  if [[ $emu -eq 1 ]]; then
    learners="${LEARNERS:-1}" lrep=1 ltime=600
  fi
  echo "[" > "$out/learners.json"
  local sep=""
  for n in $learners; do
    echo "== $n learners at once"
    local lrc=0 one
    one="$(timeout "$ltime" "$bin" "$trace" learners "$n" "$lrep")" || lrc=$?
    echo "$one"
    [[ $lrc -eq 0 ]] || { bench_rc=$lrc; one="{\"learners\": $n, \"exit\": $lrc}"; }
    printf '%s%s\n' "$sep" "$one" >> "$out/learners.json"
    sep=","
  done
  echo "]" >> "$out/learners.json"
  : > "$out/sanitizer.log"
  local sanitizer="absent"
  if command -v compute-sanitizer >/dev/null 2>&1 && [[ $emu -eq 0 ]]; then
    sanitizer=""
    for tool in memcheck racecheck synccheck initcheck; do
      echo "== compute-sanitizer --tool $tool" | tee -a "$out/sanitizer.log"
      local rc=0
      timeout 45 compute-sanitizer --tool "$tool" --error-exitcode 3 "$bin" "$trace" short >> "$out/sanitizer.log" 2>&1 || rc=$?
      echo "exit $rc" >> "$out/sanitizer.log"
      tail -3 "$out/sanitizer.log"
      case $rc in
        0) sanitizer+="$tool clean; " ;;
        124) sanitizer+="$tool stopped after 45 s; " ;;
        *) sanitizer+="$tool exit $rc; " ;;
      esac
    done
  fi
  local ncu="absent"
  if command -v ncu >/dev/null 2>&1 && [[ $emu -eq 0 ]]; then
    echo "== ncu (the first 16 launches of the short replay)"
    local rc=0
    timeout 45 ncu --clock-control none --launch-count 16 --section SpeedOfLight --section LaunchStats --section Occupancy "$bin" "$trace" short \
      > "$out/ncu.txt" 2>&1 || rc=$?
    ncu="exit $rc"
    grep -E "^  [a-zA-Z]+Kernel|Duration|Compute \(SM\) Throughput|Memory Throughput|Achieved Occupancy" "$out/ncu.txt" | head -60 || true
  fi
  python3 "$here/gpu-check/summary.py" "$out" "$dir/cpu-engine.json" "$parity_rc" "$bench_rc" "$sanitizer" "$ncu" "$emu"
  [[ $parity_rc -eq 0 && $bench_rc -eq 0 ]]
}

case "$cmd" in
  prepare) prepare ;;
  run) run ;;
  *) echo "usage: native/gpu-check.sh prepare|run" >&2; exit 2 ;;
esac
