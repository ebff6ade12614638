package org.hope4j.engine;

import java.util.List;
import org.hope4j.Hope;
import org.hope4j.Learner;
import org.hope4j.LearnerOptions;
import org.hope4j.sleep.SleepBudget;
import org.hope4j.sleep.SleepConfig;
import org.hope4j.sleep.SleepRequest;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;

/** LearnerOptions.deviceId reaches every engine a learner opens: its own, its pretrained anchor's and the two of its sleep workspace. */
class DeviceIdTest {
    @Test
    void deviceIdReachesTheEngineAndTheSleepWorkspace() {
        RecordingBackend.OPENED.clear();
        LearnerOptions o = LearnerOptions.defaults().withBackend("recording").withDeviceId(3).withEpisodic(null);
        try (Learner l = Hope.loadDefault(o)) {
            assertEquals("recording", l.backendInfo().selected());
            assertEquals(List.of(3), RecordingBackend.OPENED, "the learner's engine; its idle anchor's is not opened yet");
            l.observe("A few bytes of experience for a short sleep, repeated. ".repeat(20));
            assertEquals(List.of(3, 3), RecordingBackend.OPENED, "the first CMS step woke the anchor: its engine opened there");
            l.sleep(SleepRequest.builder().budget(SleepBudget.defaults()).config(SleepConfig.defaults().withSteps(2)).build());
            assertEquals(List.of(3, 3, 3, 3), RecordingBackend.OPENED, "teacher and student of the sleep run on the same device");
        }
    }

    @Test
    void autoNeverPicksTheLowestPriorityBackend() {
        try (Learner l = Hope.loadDefault(LearnerOptions.defaults().withEpisodic(null))) {
            assertNotEquals("recording", l.backendInfo().selected(), l.backendInfo().toString());
        }
    }
}
