package dev.cna.deploy;

import io.fabric8.kubernetes.api.model.HasMetadata;
import io.fabric8.kubernetes.api.model.apps.Deployment;

import java.io.File;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

/** One overlay of deploy/, rendered offline by Kustomize and read into typed objects. */
record Overlay(String name, String namespace, List<HasMetadata> objects) {
    /** deploy/ of this checkout (set by the pom; the module directory's sibling). */
    static final Path DEPLOY = Path.of(System.getProperty("deploy.dir", "../deploy")).toAbsolutePath().normalize();
    private static final Map<String, Overlay> RENDERED = new ConcurrentHashMap<>();

    /** The overlay, rendered once per test run. */
    static Overlay of(String name) {
        return RENDERED.computeIfAbsent(name, Overlay::render);
    }

    private static Overlay render(String name) {
        Path dir = DEPLOY.resolve("overlays").resolve(name);
        List<String> command = new ArrayList<>(renderer());
        command.add(dir.toString());
        try {
            Path err = Files.createTempFile("kustomize", ".err");
            Process p = new ProcessBuilder(command).redirectError(err.toFile()).start();
            String yaml = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
            if (!p.waitFor(120, TimeUnit.SECONDS) || p.exitValue() != 0) {
                throw new IllegalStateException(String.join(" ", command) + " failed:\n" + Files.readString(err));
            }
            Files.delete(err);
            List<HasMetadata> objects = StrictModel.readAll(yaml);
            String namespace = objects.stream().filter(o -> o.getKind().equals("Namespace"))
                    .map(o -> o.getMetadata().getName()).findFirst()
                    .orElseThrow(() -> new IllegalStateException("overlay " + name + " renders no Namespace"));
            return new Overlay(name, namespace, objects);
        } catch (IOException e) {
            throw new IllegalStateException("cannot run " + String.join(" ", command), e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(e);
        }
    }

    /**
     * A standalone {@code kustomize} when one is on the PATH, else {@code kubectl kustomize}. Either must embed
     * Kustomize v4 or later (kubectl 1.21+); the overlays use its {@code patches} field.
     */
    private static List<String> renderer() {
        if (onPath("kustomize")) {
            return List.of("kustomize", "build");
        }
        if (onPath("kubectl")) {
            return List.of("kubectl", "kustomize");
        }
        throw new IllegalStateException("neither kustomize nor kubectl is on the PATH: deploy/README.md says how to get one");
    }

    private static boolean onPath(String program) {
        return Stream.of(System.getenv().getOrDefault("PATH", "").split(File.pathSeparator))
                .anyMatch(d -> !d.isEmpty() && Files.isExecutable(Path.of(d, program)));
    }

    <T extends HasMetadata> List<T> all(Class<T> type) {
        return objects.stream().filter(type::isInstance).map(type::cast).toList();
    }

    <T extends HasMetadata> T get(Class<T> type, String name) {
        return all(type).stream().filter(o -> o.getMetadata().getName().equals(name)).findFirst()
                .orElseThrow(() -> new AssertionError(this.name + ": no " + type.getSimpleName() + " " + name));
    }

    Deployment deployment(String name) {
        return get(Deployment.class, name);
    }
}
