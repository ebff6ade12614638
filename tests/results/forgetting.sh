#!/usr/bin/env bash
# Forgetting after a new domain (issue 11: "after observing 48 KB of a new domain at default rates, general
# held-out prose scores at most 1 % worse"), with the CLI only. For each real-text file: a fresh learner observes
# its first 48 KB (every level learning, default rates), then general prose the model never trained on is
# scored with that state and with the pretrained model: the bundle's retention probe (4 KB of held-out prose)
# and 16 KB of the held-out unwrapped books. The learner as shipped (E on) and the neural levels alone
# (--no-episodic, the CMS levels' forgetting without E's help). Writes /tmp/forgetting/results.jsonl;
# tests/results/forgetting.json summarises it. Needs model-export/build/realtext and build/corpus.
set -eu
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
J="java -jar $ROOT/device/target/hope4j.jar"
W=/tmp/forgetting
rm -rf $W && mkdir -p $W && cd $W
cp "$ROOT/runtime/src/main/resources/org/hope4j/default-bundle/probe.txt" probe.txt
head -c 16384 "$ROOT/model-export/build/corpus/heldout-books-unwrapped.txt" > books.txt
for g in probe.txt books.txt; do
  echo "{\"general\": \"$g\", \"pretrained\": $($J score --json $g), \"neural_pretrained\": $($J score --json --no-episodic $g)}" >> results.jsonl
done
for f in ${FILES:-logs.log c.h json.json markdown.md german.txt prose.txt groff.1 rest.rst}; do
  head -c 49152 "$ROOT/model-export/build/realtext/$f" > $f.head
  $J observe --json --state s-$f $f.head > $f.observe.json
  $J observe --json --no-episodic --state n-$f $f.head > $f.observe-neural.json
  for g in probe.txt books.txt; do
    echo "{\"domain\": \"$f\", \"general\": \"$g\", \"after\": $($J score --json --state s-$f $g), \"neural_after\": $($J score --json --no-episodic --state n-$f $g)}" >> results.jsonl
  done
done
echo DONE >> results.jsonl
