#!/usr/bin/env bash
# Proves the linux-arm64 build (a Jetson's CPU path) on an x86-64 Debian machine, under qemu-user:
#  1. builds runtime and device with -Djavacpp.platform=linux-arm64 (arm64 natives of OpenBLAS/JavaCPP,
#     ONNX Runtime's linux-aarch64 library) in a clean clone, without the CUDA module;
#  2. unpacks Debian's arm64 OpenJDK 17 (and the libraries it needs) into a private sysroot (dpkg -x: no
#     arm64 package is installed or configured);
#  3. runs, on that JVM under qemu-aarch64: the golden-vector parity tests (ParityTest, EpisodicParityTest),
#     `score` of the retention probe (compared with the x86 figure), and a `serve` smoke test (create,
#     observe, score, generate, snapshot/undo, SIGTERM saves) driven by curl over the Unix socket.
# Writes tests/results/arm64-qemu.json. Needs root for apt (dpkg --add-architecture arm64), network access to
# Debian and Maven Central, about 15-25 minutes. Usage: device/arm64/qemu-check.sh [WORKDIR]
set -euo pipefail
REPO=$(cd "$(dirname "$0")/../.." && pwd)
W=${1:-/tmp/hope4j-arm64}
mkdir -p "$W/debs" "$W/sysroot"
if ! command -v qemu-aarch64 > /dev/null; then apt-get install -y -q qemu-user > /dev/null; fi
if ! dpkg --print-foreign-architectures | grep -qx arm64; then dpkg --add-architecture arm64; apt-get update -q > /dev/null; fi
(cd "$W/debs" && apt-get download openjdk-17-jre-headless:arm64 libc6:arm64 libgcc-s1:arm64 libstdc++6:arm64 zlib1g:arm64 > /dev/null)
for d in "$W"/debs/*.deb; do dpkg -x "$d" "$W/sysroot"; done
S=$W/sysroot
JAVA="qemu-aarch64 -L $S $S/usr/lib/jvm/java-17-openjdk-arm64/bin/java"
rm -rf "$W/main" && git clone -q "$REPO" "$W/main" && ln -sfn "$REPO/../shared" "$W/shared"
cd "$W/main"
echo "== building the linux-arm64 jars"
mvn -B -q -P '!cuda' -Djavacpp.platform=linux-arm64 -DskipTests package -pl runtime,device -am
mvn -B -q -P '!cuda' -Djavacpp.platform=linux-arm64 -pl runtime test-compile dependency:build-classpath -Dmdep.includeScope=test \
  -Dmdep.outputFile="$W/runtime-test.cp"
mvn -B -q dependency:get -Dartifact=org.junit.platform:junit-platform-console-standalone:1.14.4 > /dev/null
CONSOLE=$HOME/.m2/repository/org/junit/platform/junit-platform-console-standalone/1.14.4/junit-platform-console-standalone-1.14.4.jar
JAR=$W/main/device/target/hope4j.jar
unzip -l "$JAR" > "$W/jar-list.txt"
grep -q 'ai/onnxruntime/native/linux-aarch64/libonnxruntime.so' "$W/jar-list.txt" || { echo "no aarch64 ONNX Runtime in the jar" >&2; exit 1; }
grep -q 'org/bytedeco/javacpp/linux-arm64/' "$W/jar-list.txt" || { echo "no arm64 JavaCPP natives in the jar" >&2; exit 1; }
grep -q 'org/bytedeco/openblas/linux-arm64/' "$W/jar-list.txt" || { echo "no arm64 OpenBLAS in the jar" >&2; exit 1; }
export -n OPENBLAS_CORETYPE || true
unset OPENBLAS_CORETYPE
echo "== parity tests on arm64 (qemu)"
$JAVA -jar "$CONSOLE" execute --class-path "runtime/target/test-classes:runtime/target/classes:$(cat "$W/runtime-test.cp")" \
  --select-class org.hope4j.ParityTest --select-class org.hope4j.level.EpisodicParityTest --details=tree > "$W/parity.log" 2>&1 \
  && PARITY=passed || PARITY=failed
TESTS_OK=$(grep -oE '[0-9]+ tests successful' "$W/parity.log" | grep -oE '^[0-9]+' || echo 0)
WORST=$(grep -oE 'logits max rel error [0-9.e+-]+' "$W/parity.log" | awk '{print $5}' | sort -g | tail -1)
PROBE=runtime/src/main/resources/org/hope4j/default-bundle/probe.txt
ARM_SCORE=$($JAVA -jar "$JAR" score --json "$PROBE" 2>/dev/null)
X86_SCORE=$(java -jar "$REPO/device/target/hope4j.jar" score --json "$PROBE" 2>/dev/null || echo null)
echo "== serve smoke test on arm64 (qemu)"
R=$W/serve-root && rm -rf "$R" && mkdir -p "$R" && chmod 700 "$R"
$JAVA -jar "$JAR" serve --state-root "$R" --socket "$R/s.sock" --no-idle-sleep > "$W/serve.log" 2>&1 &
PID=$!
for i in $(seq 1 600); do [ -S "$R/s.sock" ] && curl -s --unix-socket "$R/s.sock" http://x/v1/status > /dev/null && break; sleep 1; done
C="curl -s -f --unix-socket $R/s.sock"
SMOKE=passed
$C -X PUT http://x/v1/profiles/jetson > /dev/null || SMOKE=failed
OBS=$($C --data-binary @"$PROBE" http://x/v1/profiles/jetson/observe) || SMOKE=failed
$C -X PUT http://x/v1/profiles/jetson/snapshots/s1 > /dev/null || SMOKE=failed
SC=$($C --data-binary 'The quick brown fox' http://x/v1/profiles/jetson/score) || SMOKE=failed
$C --data-binary 'The ' 'http://x/v1/profiles/jetson/generate?bytes=32' > "$W/gen.bin" || SMOKE=failed
GEN=$(stat -c %s "$W/gen.bin")
[ "$GEN" = 32 ] || SMOKE=failed
$C --data-binary 'more text' http://x/v1/profiles/jetson/observe > /dev/null || SMOKE=failed
$C -X POST http://x/v1/profiles/jetson/snapshots/s1/restore > /dev/null || SMOKE=failed
kill -TERM $PID; wait $PID || true
[ -f "$R/profiles/jetson/state/learner.state" ] || SMOKE=failed
$JAVA -jar "$JAR" score --json --state "$R/profiles/jetson/state" "$PROBE" > "$W/after.json" 2>/dev/null || SMOKE=failed
cat > "$REPO/tests/results/arm64-qemu.json" <<JSON
{"what": "the linux-arm64 build under qemu-aarch64 (user mode) on $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ *//'), Debian's arm64 OpenJDK $($JAVA -version 2>&1 | head -1 | cut -d'"' -f2)",
 "command": "device/arm64/qemu-check.sh",
 "parity_tests": "$PARITY", "parity_tests_successful": $TESTS_OK, "parity_worst_logits_rel_error": ${WORST:-null},
 "score_probe_arm64": $ARM_SCORE, "score_probe_x86_64": $X86_SCORE,
 "serve_smoke": "$SMOKE", "serve_observe": ${OBS:-null}, "serve_score": ${SC:-null}, "score_after_sigterm": $(cat "$W/after.json" || echo null)}
JSON
cat "$REPO/tests/results/arm64-qemu.json"
[ "$PARITY" = passed ] && [ "$SMOKE" = passed ]
