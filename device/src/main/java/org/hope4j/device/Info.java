package org.hope4j.device;

import com.google.gson.Gson;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.Callable;
import org.hope4j.Learner;
import org.hope4j.graph.FrozenGraphs;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/** Which backend and execution provider run here, and why the others do not. */
@Command(name = "info", mixinStandardHelpOptions = true, description = "Show the selected engine backend, the ONNX Runtime providers and the model.")
final class Info implements Callable<Integer> {
    @CommandLine.Mixin
    Main.Common common = new Main.Common();

    @Option(names = "--graph-provider", defaultValue = "cpu", description = "ONNX Runtime provider to try: cpu, cuda or tensorrt (default: ${DEFAULT-VALUE})")
    String provider;

    @Option(names = "--json", description = "print one JSON line")
    boolean json;

    @Override
    public Integer call() {
        common.graphProvider = provider;
        try (Learner l = common.open()) {
            var info = l.backendInfo();
            var mc = l.bundle().manifest().model();
            Map<String, Object> out = new LinkedHashMap<>();
            out.put("backend", info.selected());
            out.put("backend_description", info.description());
            out.put("backends", info.status());
            out.put("ort_providers", FrozenGraphs.availableProviders());
            out.put("ort_selected", l.graphProvider());
            out.put("model", Map.of("parameters", mc.parameters(), "d_model", mc.dModel(), "blocks", mc.nBlocks(), "source", l.bundle().describe()));
            if (json) {
                System.out.println(new Gson().toJson(out));
            } else {
                out.forEach((k, v) -> System.out.println(k + ": " + v));
            }
        }
        return 0;
    }
}
