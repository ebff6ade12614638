#!/usr/bin/env bash
# The service's benchmark (issue 15): hope4j serve in process, 1/4/16 clients, the service threads' CPU
# time against the library's, latencies, memory per profile. Writes tests/results/serve-bench.json (or $1).
# Needs the tree built once online (mvn -B -q install -DskipTests); ROUNDS=n per client (default 4);
# SOAK=n rounds of the soak per client (default 0: none; 150 is about 10 minutes on 2 cores).
set -euo pipefail
cd "$(dirname "$0")/.."
mvn -B -q -o -pl runtime,device,samples,tests test-compile dependency:build-classpath -Dmdep.includeScope=test \
  -Dmdep.outputFile="$PWD/tests/target/serve-bench.cp" > /dev/null
java -Xmx4g -cp "tests/target/test-classes:$(cat tests/target/serve-bench.cp)" org.hope4j.tests.ServeBench \
  "${1:-tests/results/serve-bench.json}" "${ROUNDS:-4}" "${SOAK:-0}"
