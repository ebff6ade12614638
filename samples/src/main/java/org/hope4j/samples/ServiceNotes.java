package org.hope4j.samples;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * {@link PersonalNotes} through the local learning service instead of an embedded learner: the notes
 * app, a keyboard and a voice assistant can all feed the same profile of {@code hope4j serve}, which
 * saves it, sleeps when the device is idle, and lets the user take back what it learned since a
 * snapshot.
 *
 * <pre>
 * java -cp ... org.hope4j.samples.ServiceNotes SOCKET PROFILE NOTE_FILE... [--complete PROMPT]
 * </pre>
 */
public final class ServiceNotes {
    private ServiceNotes() {
    }

    /**
     * Learns every note into {@code profile} (created if needed), after a snapshot named
     * {@code before-import} (so the import can be undone), and optionally completes {@code prompt}.
     * Returns the service's answer to the last observe.
     */
    public static String run(ServiceClient service, String profile, Iterable<Path> notes, String prompt, StringBuilder completion)
            throws IOException {
        service.createProfile(profile);
        service.snapshot(profile, "before-import");
        String last = "";
        for (Path note : notes) {
            last = service.observe(profile, Files.readString(note, StandardCharsets.UTF_8));
        }
        if (prompt != null && completion != null) {
            completion.append(service.generate(profile, prompt, 80));
        }
        return last;
    }

    public static void main(String[] args) throws IOException {
        if (args.length < 3) {
            System.err.println("usage: ServiceNotes SOCKET PROFILE NOTE_FILE... [--complete PROMPT]   (undo: POST /v1/profiles/PROFILE/snapshots/before-import/restore)");
            System.exit(2);
        }
        java.util.List<Path> notes = new java.util.ArrayList<>();
        String prompt = null;
        for (int i = 2; i < args.length; i++) {
            if (args[i].equals("--complete") && i + 1 < args.length) {
                prompt = args[++i];
            } else {
                notes.add(Path.of(args[i]));
            }
        }
        StringBuilder completion = new StringBuilder();
        System.out.println(run(new ServiceClient(Path.of(args[0])), args[1], notes, prompt, completion).strip());
        if (prompt != null) {
            System.out.println(prompt + completion);
        }
    }
}
