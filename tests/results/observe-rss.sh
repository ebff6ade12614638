#!/usr/bin/env bash
# Peak RSS of one long `hope4j observe` call (issue 17, R3): VmRSS and VmHWM of the JVM every 5 s.
# Usage: bash tests/results/observe-rss.sh FILE [HEAP, default 128m]  -> /tmp/observe-rss/{rss.txt,observe.json}
set -eu
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
FILE=$1
HEAP=${2:-128m}
W=/tmp/observe-rss
rm -rf $W && mkdir -p $W
java -Xmx$HEAP -jar "$ROOT/device/target/hope4j.jar" observe --json --state $W/state "$FILE" > $W/observe.json 2> $W/observe.err &
P=$!
while kill -0 $P 2>/dev/null; do
  echo "$(date +%s) $(grep -E 'VmHWM|VmRSS' /proc/$P/status 2>/dev/null | awk '{print $2}' | tr '\n' ' ')" >> $W/rss.txt
  sleep 5
done
wait $P
echo "peak VmHWM: $(sort -k2 -n $W/rss.txt | tail -1 | awk '{print $2}') kB; $(cat $W/observe.json)"
