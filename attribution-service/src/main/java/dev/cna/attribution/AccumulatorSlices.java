package dev.cna.attribution;

import dev.cna.core.attribution.ContrastiveAccumulator;

import java.nio.ByteBuffer;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.SortedSet;
import java.util.zip.CRC32;

/**
 * A {@link ContrastiveAccumulator} cut into one record per layer, so each record of the state store's changelog stays
 * far below Kafka's 1 MiB record limit: a layer holds both sides' 128-bit sums of its neurons, 32 bytes per neuron
 * (49 KB on the default model's 1,536 neurons, 287 KB on Qwen2.5-Coder-1.5B's 8,960; the whole accumulator is 1.5 MB
 * and 8 MB). The counts live in {@link FeatureMeta}.
 *
 * <p>Works on the bytes of {@link ContrastiveAccumulator#serialize()} (format 1: a header of six ints, the included
 * layers, two long counts, the positive then the negative sums as high/low longs by layer and neuron, a CRC-32), so the
 * sums are moved, never recomputed; {@link #join} rebuilds the snapshot and {@link ContrastiveAccumulator#deserialize}
 * checks it (shape, length, CRC).
 */
final class AccumulatorSlices {
    private static final int MAGIC = 0x434E4141;
    private static final int FORMAT_VERSION = 1;

    private AccumulatorSlices() {}

    /** layer -> that layer's positive sums followed by its negative sums ([intermediateSize][hi, lo] each side). */
    static Map<Integer, byte[]> split(ContrastiveAccumulator acc) {
        ByteBuffer b = ByteBuffer.wrap(acc.serialize());
        SortedSet<Integer> included = acc.includedLayers();
        int side = acc.intermediateSize() * 16;
        int sums = 6 * 4 + 4 * included.size() + 2 * 8;
        Map<Integer, byte[]> out = new LinkedHashMap<>();
        int k = 0;
        for (int layer : included) {
            byte[] slice = new byte[2 * side];
            b.get(sums + k * side, slice, 0, side);
            b.get(sums + (included.size() + k) * side, slice, side, side);
            out.put(layer, slice);
            k++;
        }
        return out;
    }

    /**
     * The accumulator of {@code layers} x {@code intermediateSize} whose included layers are the keys of {@code slices}.
     *
     * @throws IllegalArgumentException if a slice has the wrong size (or the rebuilt snapshot fails its checks)
     */
    static ContrastiveAccumulator join(int layers, int intermediateSize, Map<Integer, byte[]> slices, long positive, long negative) {
        int side = intermediateSize * 16;
        int[] included = slices.keySet().stream().mapToInt(Integer::intValue).sorted().toArray();
        ByteBuffer b = ByteBuffer.allocate(6 * 4 + 4 * included.length + 2 * 8 + 2 * included.length * side + 4);
        b.putInt(MAGIC).putInt(FORMAT_VERSION).putInt(layers).putInt(intermediateSize).putInt(ContrastiveAccumulator.FRACTION_BITS)
                .putInt(included.length);
        Arrays.stream(included).forEach(b::putInt);
        b.putLong(positive).putLong(negative);
        for (int half = 0; half < 2; half++) {
            for (int layer : included) {
                byte[] slice = slices.get(layer);
                if (slice.length != 2 * side) {
                    throw new IllegalArgumentException("layer " + layer + " sums have " + slice.length + " bytes, expected " + 2 * side);
                }
                b.put(slice, half * side, side);
            }
        }
        CRC32 crc = new CRC32();
        crc.update(b.array(), 0, b.position());
        b.putInt((int) crc.getValue());
        return ContrastiveAccumulator.deserialize(b.array());
    }
}
