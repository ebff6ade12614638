#!/usr/bin/env bash
# Fit the default bundle's episodic prior (episodic.json) for the bundle's model and the current
# episodic level: the manifest's entry is removed (so the learner starts from the neutral prior), the
# runtime is built, `hope4j fit-episodic` reads training text only (the bundle's rehearsal text and
# 8 x 24 KB of the pre-training split at evenly spaced offsets), and the fitted prior goes back into
# the bundle with its SHA-256. Run it after any change to EpisodicLevel's inputs or rates, or a new model.
set -euo pipefail
cd "$(dirname "$0")"
PY=/usr/bin/python3
BUNDLE=../runtime/src/main/resources/org/hope4j/default-bundle
[ -f build/corpus/train.txt ] || $PY -m hope_export.corpus --out build/corpus
mkdir -p build/episodic-fit
$PY - <<'PYEOF'
from pathlib import Path
d = Path("build/corpus/train.txt").read_bytes()
for i in range(8):
    s = d.index(b"\n", i * len(d) // 8) + 1
    Path(f"build/episodic-fit/part{i}.txt").write_bytes(d[s:s + 24576])
PYEOF
$PY - "$BUNDLE" <<'PYEOF'
import json, sys
from pathlib import Path
b = Path(sys.argv[1])
m = json.loads((b / "manifest.json").read_text())
m.pop("episodic", None)
m["files"].pop("episodic.json", None)
from hope_export.export import write_manifest
write_manifest(b, m)
(b / "episodic.json").unlink(missing_ok=True)
PYEOF
(cd .. && mvn -B -q -DskipTests install && java -jar device/target/hope4j.jar fit-episodic --backend cpu --out model-export/build/episodic.json \
  --source "the bundle's rehearsal text and 8 x 24 KB of the pre-training split" "model-export/$BUNDLE/rehearsal.txt" model-export/build/episodic-fit/part*.txt)
$PY - "$BUNDLE" <<'PYEOF'
import hashlib, json, shutil, sys
from pathlib import Path
bundle = Path(sys.argv[1])
shutil.copy("build/episodic.json", bundle / "episodic.json")
m = json.loads((bundle / "manifest.json").read_text())
files = m.pop("files")
m["episodic"] = {"file": "episodic.json", "source": "fitted by `hope4j fit-episodic` on the bundle's rehearsal text and 8 x 24 KB of the pre-training split (training text only), starting from the neutral prior"}
files["episodic.json"] = hashlib.sha256((bundle / "episodic.json").read_bytes()).hexdigest()
m["files"] = files
from hope_export.export import write_manifest
write_manifest(bundle, m)
PYEOF
(cd .. && mvn -B -q -DskipTests install)
