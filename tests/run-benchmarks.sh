#!/usr/bin/env bash
# The full evaluation suite (about two and a half hours on 2 cores): the performance benchmark with a budget
# that reaches the 1 MB decode point, the continual-learning benchmark (all five arms, three orders;
# then the learning arms again at a quarter of the inner rates), the JMH kernel benchmarks, a long
# fuzzing run of the parsers (FuzzTest), the kill -9 campaign (200 kills, CrashDuringSaveIT and CrashDuringSleepIT), the mutation
# campaign (MutationIT: 3,000 mutated bundles and states),
# the concurrency campaign (ConcurrencyIT), the real-text sets against PPMd, zpaq and xz, the forgetting measurement and the service's benchmark with its soak.
# Results go to tests/results/. The paper tasks have their own recipe (model-export/README.md, "Paper tasks": the variants are pre-trained first).
set -euo pipefail
cd "$(dirname "$0")/.."
mvn -B -q -DskipTests package
JAR=device/target/hope4j.jar
mkdir -p tests/results
echo "== bench (full budget)"
java -jar "$JAR" bench --json --seconds 300 --out tests/results/bench-full.json
echo "== continual"
java -jar "$JAR" continual --json --out tests/results/continual.json --plot tests/results/continual-online.png > /dev/null
echo "   tests/results/continual.json (the learner as shipped: every level, E included)"
java -jar "$JAR" continual --json --no-episodic --peers none --out tests/results/continual-neural.json > /dev/null
echo "   tests/results/continual-neural.json (the neural levels alone)"
java -jar "$JAR" continual --json --no-episodic --rate-scale 0.25 --arms online,online_sleep,naive_finetune --peers none \
  --out tests/results/continual-rate-0.25.json > /dev/null
echo "   tests/results/continual-rate-0.25.json"
echo "== JMH kernels"
bash tests/run-jmh.sh
echo "== fuzzing (FuzzTest with 20x the CI tries: the parsers of bundles, states and experience, and restore)"
mvn -B -q -o test -pl runtime -Dtest=FuzzTest -Dsurefire.failIfNoSpecifiedTests=false -Djqwik.tries.default=20000
echo "== kill -9 campaign (issue 17, R1): 100 rounds killed mid-observe/save and 100 inside sleeps; every state must load and verify"
mvn -B -q -o install -DskipTests
mvn -B -q -o verify -pl tests -Dit.test='CrashDuringSaveIT,CrashDuringSleepIT' -Dtest=NONE -Dsurefire.failIfNoSpecifiedTests=false -Dhope4j.crash.rounds=100
echo "== mutation campaign (issue 17, R2): 3,000 mutated bundles and 3,000 mutated states, half re-signed where a checksum exists"
mvn -B -q -o verify -pl tests -Dit.test=MutationIT -Dtest=NONE -Dsurefire.failIfNoSpecifiedTests=false -Dhope4j.mutation.cases=3000 \
  -Dhope4j.mutation.json="$PWD/tests/results/mutation-campaign.json"
echo "   tests/results/mutation-campaign.json"
echo "== concurrency campaign (issue 17, R4): 8 threads on one learner and repeated sleeps, 700 rounds per thread (about 10 minutes)"
mvn -B -q -o verify -pl tests -Dit.test=ConcurrencyIT -Dtest=NONE -Dsurefire.failIfNoSpecifiedTests=false -Dhope4j.concurrency.rounds=700
echo "== real text against PPMd, zpaq -m5 and xz (issues 11 and 12): the eight files E was tuned on, five formats it never was, three more"
(cd model-export
 [ -f build/corpus/train.txt ] || /usr/bin/python3 -m hope_export.corpus --out build/corpus > /dev/null
 /usr/bin/python3 -m hope_export.realtext --out build/realtext
 /usr/bin/python3 -m hope_export.realtext --set untuned --out build/realtext-untuned
 /usr/bin/python3 -m hope_export.realtext --set extra --out build/realtext-extra
 /usr/bin/python3 -m hope_export.peers --realtext build/realtext --primer build/corpus/train.txt --primer-slices 64:131072 \
   --json ../tests/results/peers-realtext-slices.json > /dev/null
 /usr/bin/python3 -m hope_export.peers --realtext build/realtext-untuned --primer build/corpus/train.txt --primer-slices 64:131072 \
   --json ../tests/results/peers-realtext-untuned.json > /dev/null
 /usr/bin/python3 -m hope_export.peers --realtext build/realtext-extra --primer build/corpus/train.txt --primer-slices 64:131072 \
   --json ../tests/results/peers-realtext-extra.json > /dev/null)
java -jar "$JAR" realtext --dir model-export/build/realtext --peers tests/results/peers-realtext-slices.json --json tests/results/realtext.json > /dev/null
java -jar "$JAR" realtext --dir model-export/build/realtext-untuned --peers tests/results/peers-realtext-untuned.json \
  --json tests/results/realtext-untuned.json > /dev/null
java -jar "$JAR" realtext --dir model-export/build/realtext-extra --peers tests/results/peers-realtext-extra.json \
  --json tests/results/realtext-extra.json > /dev/null
echo "   tests/results/realtext.json, tests/results/realtext-untuned.json, tests/results/realtext-extra.json"
echo "== forgetting after one new domain (issue 11; the learner with and without the pretrained anchor)"
bash tests/results/forgetting.sh > /dev/null
echo "   tests/results/forgetting.json"
echo "== the local service (issue 15): 1/4/16 clients and a soak"
ROUNDS=12 bash tests/bench-serve.sh tests/results/serve-bench.json > /dev/null
SOAK=150 bash tests/bench-serve.sh tests/results/serve-soak.json > /dev/null
echo "   tests/results/serve-bench.json, tests/results/serve-soak.json"
