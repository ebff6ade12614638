#!/usr/bin/env bash
# How much of the mixture's gain a sleep can keep with E emptied (issue 12's "≥ 60 %"), with the teacher the
# whole learner and with a student far larger than the default. Applies consolidation-limits.patch (an
# experiment, not the library: system properties that make the sleep's teacher the mixture — the neural
# teacher's distribution of each experience window with the actual byte's probability set to what the
# learner's mixture, E included, gave it when it read the experience prequentially — and that override the
# expert's rank, Adam's step, the patience and the anchor share) to a worktree of this commit, builds it, and
# for each file: observe the first 48 KB, then four sleeps that empty E on commit, each scored on the next
# 16 KB and on the bundle's retention probe by the learner as shipped (anchor and E):
#   default      the default sleep (rank 8, Adam 1e-3, 600 steps at most, probe bound 1 %), neural teacher
#   default-mix  the same with the mixture teacher
#   large        rank 32, Adam 3e-3, 2000 steps, no early stop, anchors 10 %, probe bound lifted (1000 %)
#   large-mix    the same with the mixture teacher
# Writes tests/results/consolidation-limits.json. FILES="a b" picks the files (paths under model-export/build).
set -eu
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
W=/tmp/hope4j-consolidation-limits
rm -rf $W && mkdir -p $W
git -C "$ROOT" worktree remove --force $W/src 2> /dev/null || true
git -C "$ROOT" worktree add --detach $W/src HEAD > /dev/null
(cd $W/src && git apply "$ROOT/tests/results/consolidation-limits.patch" && ln -sfn "$ROOT/../shared" ../shared 2> /dev/null || true)
(cd $W/src && mvn -B -q -o package -DskipTests -Dmaven.javadoc.skip=true -pl device -am > $W/build.log 2>&1)
JAR=$W/src/device/target/hope4j.jar
PRIOR=$W/src/runtime/src/main/resources/org/hope4j/default-bundle/episodic.json
J="java --add-modules jdk.incubator.vector -Xmx1g -jar $JAR"
bpb() { python3 -c 'import json,sys;print(json.load(sys.stdin)["bits_per_byte"])'; }
cd $W
cp "$ROOT/runtime/src/main/resources/org/hope4j/default-bundle/probe.txt" probe.txt
PP=$($J score --json probe.txt 2> /dev/null | bpb)
: > results.jsonl
for path in ${FILES:-realtext/logs.log realtext-untuned/csv.csv realtext/c.h realtext/groff.1}; do
  f=$(basename $path); src=$ROOT/model-export/build/$path
  head -c 49152 $src > $f.head; tail -c +49153 $src | head -c 16384 > $f.tail
  rm -rf s-$f; $J observe --json --state s-$f $f.head > /dev/null 2>&1
  P=$($J score --json $f.tail 2> /dev/null | bpb); M=$($J score --json --state s-$f $f.tail 2> /dev/null | bpb)
  for arm in default default-mix large large-mix; do
    rm -rf s-$f-$arm; cp -r s-$f s-$f-$arm; rm -f s-$f-$arm/.lock
    X=(); A=()
    case $arm in *-mix) X+=(-Dhope4j.exp.mixteacher=$PRIOR) ;; esac
    case $arm in large*) X+=(-Dhope4j.exp.rank=32 -Dhope4j.exp.lr=3e-3 -Dhope4j.exp.patience=1000 -Dhope4j.exp.anchor=0.1); A=(--steps 2000 --seconds 1500 --probe-bound 10) ;; esac
    java --add-modules jdk.incubator.vector -Xmx1g "${X[@]}" -jar $JAR sleep --json --clear-episodic "${A[@]}" --state s-$f-$arm > $f.$arm.json 2> $f.$arm.err
    S=$($J score --json --state s-$f-$arm $f.tail 2> /dev/null | bpb); PR=$($J score --json --state s-$f-$arm probe.txt 2> /dev/null | bpb)
    echo "{\"file\": \"$f\", \"arm\": \"$arm\", \"tail_bytes\": $(wc -c < $f.tail), \"pretrained\": $P, \"online\": $M, \"after_sleep_E_emptied\": $S, \"probe_pretrained\": $PP, \"probe_after\": $PR, \"sleep\": $(cat $f.$arm.json)}" >> results.jsonl
    echo "   $f $arm: $S" >&2
  done
done
CPU=$(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ *//')
python3 - results.jsonl "$ROOT/tests/results/consolidation-limits.json" "$CPU" <<'PYEOF'
import json, sys
out = {"cpu": sys.argv[3] + " (2 cores, busy)", "script": "bash tests/results/consolidation-limits.sh",
       "what": "share of the mixture's gain on the next 16 KB of a file kept after a sleep that empties E, with the default "
               "or a large expert and the neural or the mixture teacher (see the script's header); kept = (pretrained - after) / "
               "(pretrained - online); probe = the learner as shipped on the bundle's 4 KB retention probe; "
               "student_recent = the sleep's student (neural levels, L1 reset) on the newest 16 KB of experience from a fresh "
               "context, teacher_recent = the neural teacher's", "rows": []}
for line in open(sys.argv[1]):
    r = json.loads(line)
    s = r["sleep"]
    out["rows"].append({"file": r["file"], "arm": r["arm"], "tail_bytes": r["tail_bytes"], "pretrained": r["pretrained"], "online": r["online"],
                        "after_sleep_E_emptied": r["after_sleep_E_emptied"],
                        "kept": round((r["pretrained"] - r["after_sleep_E_emptied"]) / (r["pretrained"] - r["online"]), 4),
                        "probe_worse": round(r["probe_after"] / r["probe_pretrained"] - 1, 4), "committed": s["committed"],
                        "steps": s["steps"], "teacher_recent": s["recent_bits_per_byte_before"], "student_recent": s["recent_bits_per_byte_after"],
                        "student_probe_neural": s["probe_bits_per_byte_after"], "seconds": s["seconds"]})
json.dump(out, open(sys.argv[2], "w"), indent=1)
for r in out["rows"]:
    print(r["file"], r["arm"], "kept %.1f %%" % (100 * r["kept"]), "probe %+.2f %%" % (100 * r["probe_worse"]), "committed", r["committed"])
PYEOF
git -C "$ROOT" worktree remove --force $W/src
