package org.hope4j;

import java.lang.reflect.Method;
import java.lang.reflect.Modifier;
import java.util.Set;
import java.util.TreeSet;
import org.hope4j.learner.HopeLearner;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;

/**
 * Learner's thread-safety contract, method by method, on its implementation: every public instance method is
 * either {@code synchronized}, or one of those that take the lock inside (after preempting a sleep), or one
 * of the few that need no lock (fixed values, the sleep that works on its copy, close); the interface's default
 * methods (the String and no-argument forms) only delegate to them. A new public
 * method must be placed in one of these lists, so none is left unsynchronized by accident (as
 * {@code stream()} once was).
 */
class LockingContractTest {
    /** Preempt a running sleep first (outside the lock), then take the lock. */
    static final Set<String> LOCK_INSIDE = Set.of("observe(byte[],BitsSink)", "observe(InputStream)", "score(byte[])",
            "generate(byte[],int,Sampling,Consumer)", "reset(Level)", "restore(Path)");
    /** Need no lock: fixed at load, or running outside it by design (a sleep, close, the scheduler it makes). */
    static final Set<String> NO_LOCK = Set.of("backendInfo()", "graphProvider()", "bundle()", "lastSleep()", "close()",
            "sleep(SleepRequest)", "sleepWhenIdle(DevicePolicy,SchedulerOptions,SleepConfig,Path)");

    @Test
    void everyPublicMethodIsSynchronizedOrListed() {
        Set<String> unsynchronized = new TreeSet<>();
        for (Method m : HopeLearner.class.getDeclaredMethods()) {
            int mod = m.getModifiers();
            if (!Modifier.isPublic(mod) || Modifier.isStatic(mod) || m.isSynthetic()) {
                continue;
            }
            if (!Modifier.isSynchronized(mod)) {
                StringBuilder sig = new StringBuilder(m.getName()).append('(');
                Class<?>[] p = m.getParameterTypes();
                for (int i = 0; i < p.length; i++) {
                    sig.append(i > 0 ? "," : "").append(p[i].getSimpleName());
                }
                unsynchronized.add(sig.append(')').toString());
            }
        }
        Set<String> listed = new TreeSet<>(LOCK_INSIDE);
        listed.addAll(NO_LOCK);
        assertEquals(listed, unsynchronized, "public methods without synchronized must be listed here (and take the lock inside, or need none)");
    }
}
