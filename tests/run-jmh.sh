#!/usr/bin/env bash
# JMH micro-benchmarks of the engine's kernels (tests/src/test/java/org/hope4j/tests/jmh; see
# tests/README.md). Compiles the test classes (the JMH annotation processor writes the benchmark
# list), runs org.openjdk.jmh.Main on the tests module's test class path, writes JMH's JSON and
# prints a short table. Arguments go to JMH, e.g. a regex of benchmarks and shorter runs:
#   tests/run-jmh.sh                                  # everything, ~3 min, tests/results/jmh.json
#   tests/run-jmh.sh EngineBench -wi 1 -i 1 -w 1s -r 1s
#   tests/run-jmh.sh -p blas=openblas,java EngineBench
# HOPE4J_JMH_JSON=path writes the JSON elsewhere. Maven runs offline (-o); set HOPE4J_MVN_OFFLINE=
# (empty) on a first run whose local repository lacks JMH.
set -euo pipefail
cd "$(dirname "$0")/.."
json=${HOPE4J_JMH_JSON:-tests/results/jmh.json}
offline=${HOPE4J_MVN_OFFLINE--o}
# test-compile of tests and the modules it needs (their target/classes stand in for the jars), then
# the tests module's test class path into tests/target/jmh.classpath
mvn -B -q $offline -Pjmh -pl tests -am test-compile dependency:build-classpath \
  -Dmdep.includeScope=test -Dmdep.outputFile=target/jmh.classpath
cp="tests/target/test-classes:tests/target/classes:$(cat tests/target/jmh.classpath)"
mkdir -p "$(dirname "$json")"
java -cp "$cp" org.openjdk.jmh.Main -rf json -rff "$json" "$@"
echo
echo "== $json"
java -cp "$cp" org.hope4j.tests.jmh.JmhTable "$json"
