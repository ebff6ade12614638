#!/usr/bin/env bash
# The mixture's gain on a new domain kept by a sleep that empties E (issue 12), with the CLI only; writes
# results.jsonl in /tmp/epi-sleep (tests/results/episodic-sleep.json summarises it). FILES="a b" picks the files.
set -u
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
J="java -jar $ROOT/device/target/hope4j.jar"
mkdir -p /tmp/epi-sleep && cd /tmp/epi-sleep
for f in ${FILES:-logs.log c.h german.txt groff.1}; do
  src=$ROOT/model-export/build/realtext/$f
  n=$(stat -c %s $src); head -c 49152 $src > $f.head; tail -c +49153 $src | head -c 16384 > $f.tail
  rm -rf s-$f s-$f-keep
  $J observe --json --state s-$f $f.head > $f.observe.json
  cp -r s-$f s-$f-keep; rm -f s-$f-keep/.lock
  P=$($J score --json $f.tail); M=$($J score --json --state s-$f $f.tail)
  N=$($J score --json --no-episodic $f.tail); MN=$($J score --json --no-episodic --state s-$f $f.tail)
  $J sleep --json --clear-episodic --state s-$f > $f.sleep-clear.json 2>/dev/null
  $J sleep --json --state s-$f-keep > $f.sleep-keep.json 2>/dev/null
  S=$($J score --json --state s-$f $f.tail); SK=$($J score --json --state s-$f-keep $f.tail)
  echo "{\"file\": \"$f\", \"pretrained\": $P, \"online\": $M, \"neural_pretrained\": $N, \"neural_online\": $MN, \"after_sleep_E_cleared\": $S, \"after_sleep_E_kept\": $SK, \"sleep_clear\": $(cat $f.sleep-clear.json), \"sleep_keep\": $(cat $f.sleep-keep.json)}" >> results.jsonl
done
echo DONE >> results.jsonl
