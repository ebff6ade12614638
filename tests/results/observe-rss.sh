#!/usr/bin/env bash
# Peak RSS of one long call (issue 17, R3): VmRSS and VmHWM of the JVM and its CPU time every INTERVAL s.
# Usage: bash tests/results/observe-rss.sh FILE [HEAP]
#   HEAP given: java -XmxHEAP -jar device/target/hope4j.jar; not given: the device/hope4j launcher (its own heap)
#   CMD=observe (default, saving every SAVE_EVERY bytes, default 1 MiB) or CMD=score; W (default /tmp/observe-rss)
#   -> $W/{rss.txt (epoch, VmHWM kB, VmRSS kB, CPU time), out.json, err.txt}; R3 asks FILE >= 100 MB
set -eu
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
FILE=$1
HEAP=${2:-}
CMD=${CMD:-observe}
W=${W:-/tmp/observe-rss}
INTERVAL=${INTERVAL:-5}
rm -rf "$W" && mkdir -p "$W"
case $CMD in
  observe) ARGS=(observe --json --save-every "${SAVE_EVERY:-1048576}" --state "$W/state" "$FILE") ;;
  score) ARGS=(score --json "$FILE") ;;
  *) echo "CMD must be observe or score, not $CMD" >&2; exit 2 ;;
esac
if [ -n "$HEAP" ]; then
  java -Xmx$HEAP -jar "$ROOT/device/target/hope4j.jar" "${ARGS[@]}" > "$W/out.json" 2> "$W/err.txt" &
else
  "$ROOT/device/hope4j" "${ARGS[@]}" > "$W/out.json" 2> "$W/err.txt" &
fi
P=$!
echo "start $(date -u +%FT%TZ) $(git -C "$ROOT" rev-parse --short HEAD) $(grep -m1 'model name' /proc/cpuinfo)" > "$W/rss.txt"
while kill -0 $P 2>/dev/null; do
  J=$(pgrep -P $P java || echo $P)   # the launcher execs java; a wrapper shell would be its parent
  echo "$(date +%s) $(grep -E 'VmHWM|VmRSS' /proc/$J/status 2>/dev/null | awk '{print $2}' | tr '\n' ' ') $(ps -o cputime= -p $J 2>/dev/null)" >> "$W/rss.txt"
  sleep "$INTERVAL"
done
wait $P
echo "peak VmHWM: $(tail -n +2 "$W/rss.txt" | sort -k2 -n | tail -1 | awk '{print $2}') kB; $(cat "$W/out.json")"
