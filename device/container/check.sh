#!/usr/bin/env bash
# Proves device/container/Dockerfile on this machine: builds the image from the jar of this tree, runs the
# service in it hardened as README shows (no network, read-only root, no capabilities, its own uid, a memory
# limit), and drives it over the Unix socket on the host: create, observe, snapshot, score, generate, undo,
# then `docker stop` (SIGTERM saves), a new container on the same volume, and the learned state read back.
# Needs a running Docker daemon (apt-get install docker.io) and network access to Debian. Where the registry's
# debian:bookworm-slim cannot be pulled, the base is built with debootstrap (minbase) and imported.
# Writes tests/results/container-check.json. Usage: device/container/check.sh [WORKDIR]   (about 5 minutes)
# Another platform: BASE=IMAGE (a base image already here, e.g. an arm64 Debian run through qemu-user-static's
# binfmt handler), JAR=FILE (that platform's hope4j.jar), OUT=FILE (the JSON to write).
set -euo pipefail
REPO=$(cd "$(dirname "$0")/../.." && pwd)
W=${1:-/tmp/hope4j-container}
IMAGE=hope4j-check
NAME=hope4j-check
JAR=${JAR:-$REPO/device/target/hope4j.jar}
OUT=${OUT:-$REPO/tests/results/container-check.json}
[ -f "$JAR" ] || { echo "check.sh: $JAR not found: build it first (mvn -B -q -DskipTests package)" >&2; exit 2; }
docker info > /dev/null 2>&1 || { echo "check.sh: no Docker daemon (apt-get install docker.io; dockerd)" >&2; exit 2; }
docker rm -f "$NAME" > /dev/null 2>&1 || true
rm -rf "$W" && mkdir -p "$W"
if [ -n "${BASE:-}" ]; then
    docker image inspect "$BASE" > /dev/null || { echo "check.sh: no image $BASE here" >&2; exit 2; }
fi
BASE=${BASE:-debian:bookworm-slim}
if ! docker image inspect "$BASE" > /dev/null 2>&1 && ! docker pull -q "$BASE" > /dev/null 2>&1; then
    BASE=hope4j-base:bookworm
    if ! docker image inspect "$BASE" > /dev/null 2>&1; then
        echo "== no $BASE from a registry: debootstrap bookworm (minbase) as the base"
        command -v debootstrap > /dev/null || apt-get install -y -q debootstrap > /dev/null
        debootstrap --variant=minbase bookworm "$W/rootfs" http://deb.debian.org/debian > "$W/debootstrap.log"
        tar -C "$W/rootfs" -c . | docker import - "$BASE" > /dev/null
        rm -rf "$W/rootfs"
    fi
fi
echo "== docker build (base $BASE)"
# the build context: the recipe, the launcher and the jar at their places in the repository, nothing else
mkdir -p "$W/ctx/device/container" "$W/ctx/device/target"
cp "$REPO/device/container/Dockerfile" "$W/ctx/device/container/"
cp "$REPO/device/hope4j" "$W/ctx/device/"
cp "$JAR" "$W/ctx/device/target/hope4j.jar"
docker build -q -f "$W/ctx/device/container/Dockerfile" --build-arg BASE="$BASE" -t "$IMAGE" "$W/ctx" > "$W/build.log"
ARCH=$(docker run --rm --entrypoint uname "$IMAGE" -m)
STATE=$W/state SOCK=$W/run
install -d -m 0700 -o 10001 -g 10001 "$STATE" "$SOCK"
run() {
    docker run -d --name "$NAME" --init --network none --read-only --tmpfs /tmp --cap-drop ALL \
        --security-opt no-new-privileges --memory 1500m \
        -v "$STATE:/var/lib/hope4j" -v "$SOCK:/run/hope4j" "$IMAGE" serve --state-root /var/lib/hope4j \
        --socket /run/hope4j/hope4j.sock --no-idle-sleep --tick-seconds 3600 > /dev/null
    for _ in $(seq 1 ${WAIT_TRIES:-300}); do
        [ -S "$SOCK/hope4j.sock" ] && curl -s --unix-socket "$SOCK/hope4j.sock" http://x/v1/status > /dev/null && return 0
        [ "$(docker inspect -f '{{.State.Running}}' "$NAME")" = true ] || break
        sleep 1
    done
    docker logs "$NAME" >&2; echo "check.sh: the service did not come up" >&2; return 1
}
C="curl -s -f --unix-socket $SOCK/hope4j.sock"
TEXT=$REPO/runtime/src/main/resources/org/hope4j/default-bundle/probe.txt
FAIL=()
echo "== first container"
run
NETWORK=$(docker inspect -f '{{.HostConfig.NetworkMode}}' "$NAME")
USER_IN=$(docker exec "$NAME" id -u)
$C -X PUT http://x/v1/profiles/alice > /dev/null || FAIL+=(create)
OBS=$($C --data-binary @"$TEXT" http://x/v1/profiles/alice/observe) || FAIL+=(observe)
$C -X PUT http://x/v1/profiles/alice/snapshots/s1 > /dev/null || FAIL+=(snapshot)
$C --data-binary 'The ' 'http://x/v1/profiles/alice/generate?bytes=32&seed=7' > "$W/gen.bin" || FAIL+=(generate)
[ "$(stat -c %s "$W/gen.bin")" = 32 ] || FAIL+=(generate-length)
$C --data-binary 'text to take back' http://x/v1/profiles/alice/observe > /dev/null || FAIL+=(observe2)
UNDO=$($C -X POST http://x/v1/profiles/alice/snapshots/s1/restore) || FAIL+=(undo)
# learned after the last save: only the SIGTERM save can keep it (no housekeeping tick saves during the check)
$C --data-binary 'Notes kept after the undo, saved only when the container stops.' http://x/v1/profiles/alice/observe > /dev/null || FAIL+=(observe3)
SC1=$($C --data-binary 'The quick brown fox jumps over the lazy dog.' http://x/v1/profiles/alice/score) || FAIL+=(score)
STATUS1=$($C http://x/v1/profiles/alice) || FAIL+=(status)
# inside the container: nothing but a Unix socket may be open; the network namespace has only loopback
LISTEN=$(docker exec "$NAME" sh -c 'cat /proc/net/tcp /proc/net/tcp6 /proc/net/udp /proc/net/udp6 2>/dev/null | grep -vc "local_address" || true')
IFACES=$(docker exec "$NAME" sh -c 'ls /sys/class/net | tr "\n" " "')
docker stop -t 120 "$NAME" > /dev/null
STOP_CODE=$(docker inspect -f '{{.State.ExitCode}}' "$NAME")
docker logs "$NAME" > "$W/first.log" 2>&1
docker rm "$NAME" > /dev/null
[ -f "$STATE/profiles/alice/state/learner.state" ] || FAIL+=(saved-on-sigterm)
MODES=$(find "$STATE" -type f -printf '%m %u\n' | sort | uniq -c | tr -s ' ' | tr '\n' ';')
find "$STATE/profiles" -type f ! -perm 0600 | grep -q . && FAIL+=(file-modes)
echo "== second container, same volume"
run
SC2=$($C --data-binary 'The quick brown fox jumps over the lazy dog.' http://x/v1/profiles/alice/score) || FAIL+=(score-after-restart)
STATUS2=$($C http://x/v1/profiles/alice) || FAIL+=(status-after-restart)
docker stop -t 120 "$NAME" > /dev/null; docker logs "$NAME" > "$W/second.log" 2>&1; docker rm "$NAME" > /dev/null
python3 - "$SC1" "$SC2" "$STATUS1" "$STATUS2" "$UNDO" <<'PY' || FAIL+=(state-read-back)
import json, sys
a, b, s1, s2, undo = (json.loads(x) for x in sys.argv[1:6])
assert a["bits_per_byte"] == b["bits_per_byte"], (a, b)
assert undo["position"] == 4096, undo
assert s1["unsaved_bytes"] > 0 and s1["position"] == 4096 + s1["unsaved_bytes"], s1
assert s2["position"] == s1["position"] and s2["update_counts"] == s1["update_counts"], (s1, s2)
PY
[ "$NETWORK" = none ] || FAIL+=(network)
[ "$USER_IN" = 10001 ] || FAIL+=(uid)
[ "$STOP_CODE" = 143 ] || [ "$STOP_CODE" = 0 ] || FAIL+=(stop-exit-code)
RESULT=$([ ${#FAIL[@]} = 0 ] && echo passed || echo "failed: ${FAIL[*]}")
cat > "$OUT" <<JSON
{"what": "device/container/Dockerfile built on $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ *//') from base $BASE and run hardened (network none, read-only root, cap-drop ALL, no-new-privileges, 1500 MB, uid 10001); the service driven over its socket on the host, stopped with SIGTERM and read back by a second container",
 "command": "${CHECK_COMMAND:-device/container/check.sh}", "architecture_in_container": "$ARCH", "date": "$(date -u +%F)", "docker": "$(docker version -f '{{.Server.Version}}')",
 "image_mb": $(( $(docker image inspect -f '{{.Size}}' "$IMAGE") / 1048576 )),
 "result": "$RESULT", "network_mode": "$NETWORK", "uid_in_container": $USER_IN, "interfaces": "$IFACES", "inet_sockets_open": $LISTEN,
 "observe": ${OBS:-null}, "score_before_stop": ${SC1:-null}, "score_in_second_container": ${SC2:-null},
 "undo": ${UNDO:-null}, "status_before_stop": ${STATUS1:-null}, "status_in_second_container": ${STATUS2:-null},
 "stop_exit_code": $STOP_CODE, "state_files": "$MODES"}
JSON
cat "$OUT"
[ ${#FAIL[@]} = 0 ]
