#!/usr/bin/env bash
# One long real text (default: the first 1,000,000 bytes of linux-libc-dev's Debian changelog, which this machine
# has at /usr/share/doc/linux-libc-dev/changelog.Debian.gz): the learner's prequential code (observe, one call,
# peak RSS) against PPMd, zpaq -m5 and xz, cold and primed with the 8.9 MB of training slices, as in README's
# real-text tables. Writes tests/results/long-text.json (or $OUT). Usage: [OUT=FILE.json] [DESC="what FILE is"] bash tests/results/long-text.sh [FILE]
set -eu
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
W=/tmp/hope4j-long-text
rm -rf $W && mkdir -p $W
if [ $# -ge 1 ]; then cp "$1" $W/text; else zcat /usr/share/doc/linux-libc-dev/changelog.Debian.gz | head -c 1000000 > $W/text; fi
(cd "$ROOT/model-export" && /usr/bin/python3 -m hope_export.peers --target $W/text --primer build/corpus/train.txt \
  --primer-slices 64:131072 --json $W/peers.json > /dev/null)
/usr/bin/time -v "$ROOT/device/hope4j" observe --json --save-every 0 --state $W/state $W/text > $W/observe.json 2> $W/time.txt
CPU=$(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ *//')
SRC=${DESC:-${1:-}}
python3 - "$W" "${OUT:-$ROOT/tests/results/long-text.json}" "$CPU" "$(dpkg-query -W -f='${Version}' linux-libc-dev 2> /dev/null || true)" "$SRC" <<'PYEOF'
import json, re, sys
w = sys.argv[1]
peers = json.load(open(w + "/peers.json"))["files"][0]
obs = json.load(open(w + "/observe.json"))
t = open(w + "/time.txt").read()
rss = int(re.search(r"Maximum resident set size \(kbytes\): (\d+)", t).group(1)) / 1024
cpu = float(re.search(r"User time \(seconds\): ([\d.]+)", t).group(1)) + float(re.search(r"System time \(seconds\): ([\d.]+)", t).group(1))
primed = list(peers["primed"].values())[0]
out = {"cpu": sys.argv[3], "script": "bash tests/results/long-text.sh" + (" FILE" if sys.argv[5] else ""), "sha256": peers["sha256"], "bytes": peers["bytes"],
       "source": sys.argv[5] if sys.argv[5] else "first 1,000,000 bytes of /usr/share/doc/linux-libc-dev/changelog.Debian.gz (linux-libc-dev " + sys.argv[4] + ")",
       "learner_observe": obs["prequential_bits_per_byte"], "observe_cpu_s": round(cpu, 1), "observe_peak_rss_mb": round(rss, 1),
       "peers_cold": peers["cold"], "peers_primed": primed,
       "learner_vs_primed_zpaq": round(obs["prequential_bits_per_byte"] / primed["zpaq"] - 1, 4)}
json.dump(out, open(sys.argv[2], "w"), indent=1)
print(json.dumps(out))
PYEOF
