package org.hope4j.engine;

import org.hope4j.engine.cpu.CpuBackend;

/** A test backend over CPU engines, never chosen by "auto" (lowest priority), under its own name. */
abstract class CpuTestBackend implements Backend {
    /** The CPU backend the engines come from. */
    final CpuBackend cpu = new CpuBackend();
    private final String name;

    CpuTestBackend(String name) {
        this.name = name;
    }

    @Override
    public String name() {
        return name;
    }

    @Override
    public int priority() {
        return -100;
    }

    @Override
    public void probe() {
        cpu.probe();
    }
}
