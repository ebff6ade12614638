"""The GPU check's summary (native/gpu-check.sh run): gpu-check.json from the parts' results in OUT."""
import json, sys
out, cpu_json, parity_rc, bench_rc, sanitizer, ncu, emu = sys.argv[1:]
def load(p):
    try:
        return json.load(open(p))
    except Exception as e:
        return {"error": "%s: %s" % (p, e)}
parity, bench, cpu = load(out + "/parity.json"), load(out + "/bench.json"), load(cpu_json)
learners = load(out + "/learners.json")
s = {"emulated": emu == "1", "parity_passed": parity.get("passed") is True and parity_rc == "0", "parity": parity,
     "bench": bench, "learners": learners, "cpu_engine": cpu, "compute_sanitizer": sanitizer, "ncu": ncu}
if "us_per_span" in bench and "cpu_engine_us_per_span" in cpu and emu != "1":
    s["engine_speedup_vs_cpu_engine"] = cpu["cpu_engine_us_per_span"] / bench["us_per_span"]
    cpu_bps = bench.get("bytes_per_span", 64) * 1e6 / cpu["cpu_engine_us_per_span"]  # one learner on the CPU engine
    if isinstance(learners, list):
        # each learner at least as fast as one on the CPU engine: how many share the GPU
        s["learners_each_at_least_cpu_engine_speed"] = max(
            [l["learners"] for l in learners if l.get("bytes_per_s_slowest_learner", 0) >= cpu_bps] or [0])
json.dump(s, open(out + "/gpu-check.json", "w"), indent=2)
print(json.dumps({k: s[k] for k in s if k not in ("parity", "bench", "cpu_engine")}, indent=2))
