#!/usr/bin/env bash
# The mixture's gain on a new domain kept by a sleep (issues 11 and 12), with the CLI only. For each real-text
# file: a fresh learner observes its first 48 KB, then its next 16 KB is scored (CMS frozen; E learns within the
# call) by the pretrained learner, by the learner that observed, and after a sleep that keeps E exactly
# (--keep-episodic), one that empties it on commit (--clear-episodic), or the default sleep (counts capped at
# SleepConfig.DEFAULT_EPISODIC_AGE, that share of each slot's confidence kept; then, while the learner's probe stands
# above the bound, its maps recalibrated, then aged further with its matches forgotten, then emptied). The bundle's 4 KB retention probe (general prose) is scored the same
# way, so the sleep's effect on other text is measured with the learner as shipped (anchor and E included), not
# only by the sleep's own guard (the neural levels alone). Writes results.jsonl in /tmp/epi-sleep and
# tests/results/episodic-sleep.json. FILES="a b" picks the files.
set -u
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
JAR=${HOPE4J_JAR:-$ROOT/device/target/hope4j.jar}
J="java -jar $JAR"
rm -rf /tmp/epi-sleep && mkdir -p /tmp/epi-sleep && cd /tmp/epi-sleep
cp "$ROOT/runtime/src/main/resources/org/hope4j/default-bundle/probe.txt" probe.txt
PP=$($J score --json probe.txt 2>/dev/null)
# the four 96-100 KB formats E's contexts were tuned on, then the five nothing was tuned on (realtext --set untuned)
for path in ${FILES:-logs.log c.h german.txt groff.1 ../realtext-untuned/python.py ../realtext-untuned/html.html ../realtext-untuned/min.js ../realtext-untuned/xml.xml ../realtext-untuned/csv.csv}; do
  f=$(basename $path)
  src=$ROOT/model-export/build/realtext/$path
  head -c 49152 $src > $f.head; tail -c +49153 $src | head -c 16384 > $f.tail
  rm -rf s-$f s-$f-keep s-$f-def
  $J observe --json --state s-$f $f.head > $f.observe.json 2>/dev/null
  for arm in keep def; do cp -r s-$f s-$f-$arm; rm -f s-$f-$arm/.lock; done
  P=$($J score --json $f.tail 2>/dev/null); M=$($J score --json --state s-$f $f.tail 2>/dev/null)
  N=$($J score --json --no-episodic $f.tail 2>/dev/null); MN=$($J score --json --no-episodic --state s-$f $f.tail 2>/dev/null)
  PM=$($J score --json --state s-$f probe.txt 2>/dev/null)
  # the ceiling of a sleep that empties E: the neural levels as online learning left them, E emptied
  OE=$(java -cp "$JAR" "$ROOT/tests/results/EpisodicCeiling.java" s-$f $f.tail 2>/dev/null)
  $J sleep --json --clear-episodic --state s-$f > $f.sleep-clear.json 2>/dev/null
  $J sleep --json --keep-episodic --state s-$f-keep > $f.sleep-keep.json 2>/dev/null
  $J sleep --json --state s-$f-def > $f.sleep-def.json 2>/dev/null
  S=$($J score --json --state s-$f $f.tail 2>/dev/null); SK=$($J score --json --state s-$f-keep $f.tail 2>/dev/null)
  SD=$($J score --json --state s-$f-def $f.tail 2>/dev/null)
  PS=$($J score --json --state s-$f probe.txt 2>/dev/null); PSK=$($J score --json --state s-$f-keep probe.txt 2>/dev/null)
  PSD=$($J score --json --state s-$f-def probe.txt 2>/dev/null)
  echo "{\"file\": \"$f\", \"pretrained\": $P, \"online\": $M, \"neural_pretrained\": $N, \"neural_online\": $MN, \"online_E_emptied\": $OE, \"after_sleep_E_cleared\": $S, \"after_sleep_E_kept\": $SK, \"after_sleep_default\": $SD, \"probe_pretrained\": $PP, \"probe_online\": $PM, \"probe_after_sleep_E_cleared\": $PS, \"probe_after_sleep_E_kept\": $PSK, \"probe_after_sleep_default\": $PSD, \"sleep_clear\": $(cat $f.sleep-clear.json), \"sleep_keep\": $(cat $f.sleep-keep.json), \"sleep_default\": $(cat $f.sleep-def.json)}" >> results.jsonl
  echo "   $f done" >&2
done
CPU=$(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ *//')
python3 - results.jsonl "$ROOT/tests/results/episodic-sleep.json" "$CPU" <<'PYEOF'
import json, sys
out = {"cpu": sys.argv[3] + " (2 cores, busy)",
       "what": "the mixture's gain on a new domain kept by a sleep: hope4j observe the first 48 KB of a real-text file "
               "(model-export/build/realtext), then score the next 16 KB (CMS frozen; E learns within the call); pretrained = a fresh "
               "learner on the same 16 KB; after sleep = hope4j sleep (600 steps at most, default guard) with --clear-episodic (E "
               "emptied on commit), "
               "--keep-episodic (E as it was) or the defaults (default: counts capped at 1, half of each slot's confidence kept, then, while the learner's probe stands more than 1 % above the pretrained learner's, its maps recalibrated, then aged further with its matches forgotten, then emptied; the sleep_default reason names the step); kept = (pretrained - after) / (pretrained - online). probe_* = the learner as shipped "
               "(anchor and E) scoring the bundle's 4 KB retention probe; probe_worse_* = against the pretrained learner's probe; "
               "online_E_emptied = the learner that observed, its E emptied before scoring (EpisodicCeiling.java): the neural "
               "levels exactly as online learning left them, i.e. the most a sleep that empties E could keep "
               "(kept_at_most_with_E_emptied)",
       "script": "bash tests/results/episodic-sleep.sh", "files": []}
for line in open(sys.argv[1]):
    r = json.loads(line)
    b = lambda k: r[k]["bits_per_byte"]
    gain = b("pretrained") - b("online")
    row = {"file": r["file"], "pretrained": b("pretrained"), "online": b("online"),
           "after_sleep_E_cleared": b("after_sleep_E_cleared"), "after_sleep_E_kept": b("after_sleep_E_kept"),
           "after_sleep_default": b("after_sleep_default"),
           "kept_with_E_cleared": round((b("pretrained") - b("after_sleep_E_cleared")) / gain, 4),
           "kept_with_E_kept": round((b("pretrained") - b("after_sleep_E_kept")) / gain, 4),
           "kept_with_default_sleep": round((b("pretrained") - b("after_sleep_default")) / gain, 4),
           "neural_pretrained": b("neural_pretrained"), "neural_online": b("neural_online"),
           "online_E_emptied": b("online_E_emptied"),
           "kept_at_most_with_E_emptied": round((b("pretrained") - b("online_E_emptied")) / gain, 4),
           "probe_pretrained": b("probe_pretrained"), "probe_online": b("probe_online"),
           "probe_after_sleep_E_cleared": b("probe_after_sleep_E_cleared"), "probe_after_sleep_E_kept": b("probe_after_sleep_E_kept"),
           "probe_after_sleep_default": b("probe_after_sleep_default")}
    for k in ("online", "after_sleep_E_cleared", "after_sleep_E_kept", "after_sleep_default"):
        row["probe_worse_" + k] = round(b("probe_" + k) / b("probe_pretrained") - 1, 4)
    row["sleep_E_cleared"] = r["sleep_clear"]
    row["sleep_E_kept"] = r["sleep_keep"]
    row["sleep_default"] = r["sleep_default"]
    out["files"].append(row)
json.dump(out, open(sys.argv[2], "w"), indent=1)
print(json.dumps([{k: v for k, v in f.items() if not k.startswith("sleep_")} for f in out["files"]], indent=0))
PYEOF
