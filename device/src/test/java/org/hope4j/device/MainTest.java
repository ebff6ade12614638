package org.hope4j.device;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.Test;
import picocli.CommandLine;

/** {@code hope4j}'s command line: built for the one subcommand it runs, the same as the whole one for that subcommand. */
class MainTest {
    private static List<String> names() {
        List<String> out = new ArrayList<>();
        for (Class<?> c : Main.SUBCOMMANDS) {
            out.add(c.getAnnotation(CommandLine.Command.class).name());
        }
        return out;
    }

    @Test
    void aNamedSubcommandIsTheOnlyOneBuiltAndReadsAsInTheWholeCommandLine() {
        List<String> names = names();
        assertEquals(14, names.size());
        assertEquals(names.size(), new HashSet<>(names).size(), "names are unique: " + names);
        CommandLine all = Main.commandLine();
        assertEquals(names, new ArrayList<>(all.getSubcommands().keySet()), "the usage lists them in this order");
        for (String name : names) {
            CommandLine one = Main.commandLine(name, "--help");
            assertEquals(Set.of(name), one.getSubcommands().keySet(), name);
            assertEquals(all.getSubcommands().get(name).getUsageMessage(CommandLine.Help.Ansi.OFF),
                    one.getSubcommands().get(name).getUsageMessage(CommandLine.Help.Ansi.OFF), name + "'s usage");
        }
    }

    @Test
    void withoutASubcommandNameEveryOneIsThere() {
        for (String[] args : new String[][] {{}, {"--help"}, {"--version"}, {"scroe", "x"}, {"--model", "score"}}) {
            assertEquals(names(), new ArrayList<>(Main.commandLine(args).getSubcommands().keySet()), String.join(" ", args));
        }
        // a misspelt name: picocli's error with its suggestion, as before (usage error, exit code 2)
        CommandLine cl = Main.commandLine("scroe", "x");
        StringWriter err = new StringWriter();
        cl.setErr(new PrintWriter(err));
        assertEquals(2, cl.execute("scroe", "x"));
        assertTrue(err.toString().contains("score"), err.toString());
    }

    @Test
    void aFailingCommandIsOneLineWithExitCodeOne(@org.junit.jupiter.api.io.TempDir java.nio.file.Path tmp) throws Exception {
        java.nio.file.Path empty = java.nio.file.Files.writeString(tmp.resolve("history.json"), "{\"history\": []}");
        String[] args = {"plot-training", "--history", empty.toString(), "--out", tmp.resolve("curve.png").toString()};
        CommandLine cl = Main.commandLine(args);
        StringWriter err = new StringWriter();
        cl.setErr(new PrintWriter(err));
        assertEquals(1, cl.execute(args));
        assertTrue(err.toString().startsWith("hope4j: ") && err.toString().strip().lines().count() == 1, err.toString());
    }

    @Test
    void commandsThatNeverSaveOpenWithoutAnExperienceBufferAndScoreTheSame(@org.junit.jupiter.api.io.TempDir java.nio.file.Path tmp) {
        Main.Common common = CommandLine.populateCommand(new Main.Common(), "--backend", "cpu");
        byte[] text = java.util.Arrays.copyOf(org.hope4j.bundle.Bundle.loadDefault().rehearsal(), 2000);
        java.nio.file.Path state = tmp.resolve("state");
        try (org.hope4j.Learner l = common.open(null)) {
            l.observe(text);
            assertEquals(text.length, l.recentExperience().length, "a learner that may save keeps its experience");
            l.save(state);
        }
        byte[] probe = java.util.Arrays.copyOfRange(org.hope4j.bundle.Bundle.loadDefault().rehearsal(), 4000, 5000);
        double saving;
        try (org.hope4j.Learner l = common.open(state)) {
            assertEquals(text.length, l.recentExperience().length, "restored with its experience");
            saving = l.score(probe).bits();
        }
        try (org.hope4j.Learner l = common.openUnsaved(state)) {
            assertEquals(0, l.recentExperience().length, "the saved experience is not read back");
            assertEquals(saving, l.score(probe).bits(), 0.0, "the same bits: only a sleep reads the experience");
            l.observe(text);
            assertEquals(0, l.recentExperience().length, "nor kept while reading");
        }
    }
}
