package dev.cna.core.attribution;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.math.BigInteger;
import java.nio.ByteBuffer;
import java.util.Arrays;
import java.util.Collections;
import java.util.Objects;
import java.util.Set;
import java.util.SortedSet;
import java.util.TreeSet;
import java.util.zip.CRC32;
import java.util.zip.CheckedOutputStream;

/**
 * The running state of contrastive discovery (docs/method.md section 2, streaming form): per side (positive,
 * negative) the number of prompts and, per included layer and neuron, the sum of the last-token activations.
 *
 * <p><b>Exact, order-independent sums.</b> Floating-point addition is not associative, so plain double
 * sums would depend on event order and on how events were split across partitions. Instead every activation
 * is rounded once to the nearest multiple of 2<sup>-32</sup> ({@link #FRACTION_BITS}) and added as a
 * fixed-point integer into a 128-bit two's-complement accumulator (a high and a low long). Integer addition
 * is associative and commutative, so the state after any order or split of the same prompts is identical,
 * bit for bit, and so are {@link #delta()}, the circuit and {@link #serialize()}.
 *
 * <p>Precision: a float32 activation with |h| &ge; 2<sup>-9</sup> is a multiple of 2<sup>-32</sup> already
 * and is summed exactly; smaller ones are off by at most 2<sup>-33</sup> (about 1.2e-10), so a mean and a
 * delta are within 2.4e-10 of the exact ones before the final rounding to double.
 *
 * <p>Overflow: activations must be finite with |h| &lt; 2<sup>31</sup>, so each scaled value fits in a
 * long (|x| &lt; 2<sup>63</sup>); a 128-bit sum of fewer than 2<sup>64</sup> such values cannot overflow,
 * and the counts (longs, checked) stop far earlier. Out-of-range input is rejected before any sum changes.
 *
 * <p>Not thread-safe: one owner (e.g. the consumer thread of a feature's partition) adds and merges.
 */
public final class ContrastiveAccumulator {
    /** Activations are summed as integers in units of 2^-FRACTION_BITS. */
    public static final int FRACTION_BITS = 32;
    /** Exclusive bound on |activation|, so that a scaled activation fits in a long. */
    public static final double MAX_ABS_ACTIVATION = Math.scalb(1.0, 63 - FRACTION_BITS);

    private static final int MAGIC = 0x434E4141; // "CNAA"
    private static final int FORMAT_VERSION = 1;
    private static final double SCALE = Math.scalb(1.0, FRACTION_BITS);
    private static final BigInteger LOW_64_BITS = BigInteger.ONE.shiftLeft(64).subtract(BigInteger.ONE);

    private final int layers;
    private final int intermediateSize;
    private final SortedSet<Integer> includedLayers;
    private final Sums positive;
    private final Sums negative;

    /**
     * An empty accumulator for a model with {@code layers} x {@code intermediateSize} neurons that records the
     * given layers (see {@link SelectionOptions#includedLayers(int)}).
     */
    public ContrastiveAccumulator(int layers, int intermediateSize, Set<Integer> includedLayers) {
        if (layers <= 0 || intermediateSize <= 0) {
            throw new IllegalArgumentException("shape must be positive, got " + layers + " x " + intermediateSize);
        }
        if (includedLayers.isEmpty()) {
            throw new IllegalArgumentException("an accumulator needs at least one included layer");
        }
        for (int layer : includedLayers) {
            if (layer < 0 || layer >= layers) {
                throw new IllegalArgumentException("included layer " + layer + " is outside the model's " + layers + " layers");
            }
        }
        this.layers = layers;
        this.intermediateSize = intermediateSize;
        this.includedLayers = Collections.unmodifiableSortedSet(new TreeSet<>(includedLayers));
        this.positive = new Sums(layers, intermediateSize, this.includedLayers);
        this.negative = new Sums(layers, intermediateSize, this.includedLayers);
    }

    public int layers() {
        return layers;
    }

    public int intermediateSize() {
        return intermediateSize;
    }

    public SortedSet<Integer> includedLayers() {
        return includedLayers;
    }

    public long positiveCount() {
        return positive.count;
    }

    public long negativeCount() {
        return negative.count;
    }

    /** Adds one positive prompt's last-token activations, [layer][neuron]; excluded layers may be null. */
    public void addPositive(float[][] perLayerActivations) {
        positive.add(scale(perLayerActivations));
    }

    /** Adds one negative prompt's last-token activations, [layer][neuron]; excluded layers may be null. */
    public void addNegative(float[][] perLayerActivations) {
        negative.add(scale(perLayerActivations));
    }

    /** Adds another accumulator's prompts to this one; both must have the same shape and included layers. */
    public void merge(ContrastiveAccumulator other) {
        if (!sameShape(other)) {
            throw new IllegalArgumentException("cannot merge " + other + " into " + this + ": shapes differ");
        }
        positive.merge(other.positive);
        negative.merge(other.negative);
    }

    /**
     * {@code mu+ - mu-} per layer and neuron, [layer][neuron], null for layers not included. Needs at least one
     * prompt on each side.
     */
    public double[][] delta() {
        if (positive.count == 0 || negative.count == 0) {
            throw new IllegalStateException("delta needs at least one positive and one negative prompt, have "
                    + positive.count + " and " + negative.count);
        }
        double[][] delta = new double[layers][];
        for (int layer : includedLayers) {
            delta[layer] = new double[intermediateSize];
            for (int i = 0; i < intermediateSize; i++) {
                delta[layer][i] = positive.mean(layer, i) - negative.mean(layer, i);
            }
        }
        return delta;
    }

    /**
     * A snapshot in a small versioned binary format: magic "CNAA", format version, shape, fraction bits,
     * included layers, counts, the 128-bit sums (positive then negative, by layer and neuron as high/low long
     * pairs), and a CRC-32 of everything before it.
     */
    public byte[] serialize() {
        ByteArrayOutputStream bytes = new ByteArrayOutputStream(expectedLength(includedLayers.size(), intermediateSize));
        CRC32 crc = new CRC32();
        try (DataOutputStream out = new DataOutputStream(new CheckedOutputStream(bytes, crc))) {
            out.writeInt(MAGIC);
            out.writeInt(FORMAT_VERSION);
            out.writeInt(layers);
            out.writeInt(intermediateSize);
            out.writeInt(FRACTION_BITS);
            out.writeInt(includedLayers.size());
            for (int layer : includedLayers) {
                out.writeInt(layer);
            }
            out.writeLong(positive.count);
            out.writeLong(negative.count);
            for (Sums sums : new Sums[] {positive, negative}) {
                for (int layer : includedLayers) {
                    for (int i = 0; i < intermediateSize; i++) {
                        out.writeLong(sums.hi[layer][i]);
                        out.writeLong(sums.lo[layer][i]);
                    }
                }
            }
            out.writeInt((int) crc.getValue());
        } catch (IOException e) {
            throw new UncheckedIOException("writing to memory cannot fail", e);
        }
        return bytes.toByteArray();
    }

    /** Reads a {@link #serialize()} snapshot; rejects foreign, truncated, corrupted or newer-format bytes. */
    public static ContrastiveAccumulator deserialize(byte[] bytes) {
        if (bytes.length < 7 * 4) {
            throw new IllegalArgumentException("accumulator snapshot too short: " + bytes.length + " bytes");
        }
        CRC32 crc = new CRC32();
        crc.update(bytes, 0, bytes.length - 4);
        try (DataInputStream in = new DataInputStream(new ByteArrayInputStream(bytes))) {
            if (in.readInt() != MAGIC) {
                throw new IllegalArgumentException("not an accumulator snapshot (bad magic)");
            }
            int version = in.readInt();
            if (version != FORMAT_VERSION) {
                throw new IllegalArgumentException("accumulator snapshot format " + version + " is not supported (this build reads " + FORMAT_VERSION + ")");
            }
            int layers = in.readInt();
            int intermediateSize = in.readInt();
            int fractionBits = in.readInt();
            if (fractionBits != FRACTION_BITS) {
                throw new IllegalArgumentException("accumulator snapshot uses " + fractionBits + " fraction bits, expected " + FRACTION_BITS);
            }
            int includedCount = in.readInt();
            if (layers <= 0 || intermediateSize <= 0 || includedCount <= 0 || includedCount > layers) {
                throw new IllegalArgumentException("accumulator snapshot has an invalid shape: " + layers + " x " + intermediateSize
                        + " with " + includedCount + " included layers");
            }
            // Check the length before allocating, so a corrupted header cannot ask for gigabytes.
            if (bytes.length != expectedLength(includedCount, intermediateSize)) {
                throw new IllegalArgumentException("accumulator snapshot has " + bytes.length + " bytes, its header implies "
                        + expectedLength(includedCount, intermediateSize));
            }
            int expectedCrc = ByteBuffer.wrap(bytes).getInt(bytes.length - 4);
            if (expectedCrc != (int) crc.getValue()) {
                throw new IllegalArgumentException("accumulator snapshot is corrupted (CRC mismatch)");
            }
            Set<Integer> included = new TreeSet<>();
            int previous = -1;
            for (int k = 0; k < includedCount; k++) {
                int layer = in.readInt();
                if (layer <= previous || layer >= layers) {
                    throw new IllegalArgumentException("accumulator snapshot lists included layers out of order or range: " + layer);
                }
                included.add(layer);
                previous = layer;
            }
            ContrastiveAccumulator acc = new ContrastiveAccumulator(layers, intermediateSize, included);
            acc.positive.count = in.readLong();
            acc.negative.count = in.readLong();
            if (acc.positive.count < 0 || acc.negative.count < 0) {
                throw new IllegalArgumentException("accumulator snapshot has negative counts");
            }
            for (Sums sums : new Sums[] {acc.positive, acc.negative}) {
                for (int layer : acc.includedLayers) {
                    for (int i = 0; i < intermediateSize; i++) {
                        sums.hi[layer][i] = in.readLong();
                        sums.lo[layer][i] = in.readLong();
                    }
                }
            }
            return acc;
        } catch (IOException e) {
            throw new IllegalArgumentException("accumulator snapshot is truncated", e);
        }
    }

    private static int expectedLength(int includedCount, int intermediateSize) {
        long length = 6L * 4 + 4L * includedCount + 2 * 8 + 2L * includedCount * intermediateSize * 16 + 4;
        if (length > Integer.MAX_VALUE - 8) {
            throw new IllegalArgumentException("accumulator too large for one snapshot: " + length + " bytes");
        }
        return (int) length;
    }

    /** Validates a whole prompt first, so a rejected prompt leaves the sums untouched. */
    private long[][] scale(float[][] perLayer) {
        if (perLayer.length != layers) {
            throw new IllegalArgumentException("expected activations for " + layers + " layers, got " + perLayer.length);
        }
        long[][] scaled = new long[layers][];
        for (int layer : includedLayers) {
            float[] h = perLayer[layer];
            if (h == null || h.length != intermediateSize) {
                throw new IllegalArgumentException("layer " + layer + " needs " + intermediateSize + " activations, got "
                        + (h == null ? "none" : h.length));
            }
            scaled[layer] = new long[intermediateSize];
            for (int i = 0; i < intermediateSize; i++) {
                if (!(Math.abs(h[i]) < MAX_ABS_ACTIVATION)) { // also rejects NaN
                    throw new IllegalArgumentException("activation (" + layer + ", " + i + ") = " + h[i]
                            + " is not finite or not below " + MAX_ABS_ACTIVATION + " in magnitude");
                }
                scaled[layer][i] = Math.round(h[i] * SCALE); // exact product, one rounding
            }
        }
        return scaled;
    }

    private boolean sameShape(ContrastiveAccumulator other) {
        return layers == other.layers && intermediateSize == other.intermediateSize && includedLayers.equals(other.includedLayers);
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof ContrastiveAccumulator other && sameShape(other) && positive.equals(other.positive)
                && negative.equals(other.negative);
    }

    @Override
    public int hashCode() {
        return Objects.hash(layers, intermediateSize, includedLayers, positive, negative);
    }

    @Override
    public String toString() {
        return "ContrastiveAccumulator[" + layers + "x" + intermediateSize + ", " + includedLayers.size() + " layers recorded, "
                + positive.count + " positive, " + negative.count + " negative]";
    }

    /** One side's prompt count and 128-bit fixed-point sums (hi: high 64 bits, signed; lo: low 64 bits, unsigned). */
    private static final class Sums {
        long count;
        final long[][] hi;
        final long[][] lo;

        Sums(int layers, int intermediateSize, Set<Integer> included) {
            hi = new long[layers][];
            lo = new long[layers][];
            for (int layer : included) {
                hi[layer] = new long[intermediateSize];
                lo[layer] = new long[intermediateSize];
            }
        }

        void add(long[][] scaled) {
            count = Math.addExact(count, 1);
            for (int layer = 0; layer < scaled.length; layer++) {
                if (scaled[layer] == null) {
                    continue;
                }
                long[] h = hi[layer];
                long[] l = lo[layer];
                for (int i = 0; i < h.length; i++) {
                    long x = scaled[layer][i];
                    long sum = l[i] + x;
                    long carry = Long.compareUnsigned(sum, l[i]) < 0 ? 1 : 0;
                    h[i] += (x >> 63) + carry; // x sign-extended to 128 bits
                    l[i] = sum;
                }
            }
        }

        void merge(Sums other) {
            count = Math.addExact(count, other.count);
            for (int layer = 0; layer < hi.length; layer++) {
                if (hi[layer] == null) {
                    continue;
                }
                for (int i = 0; i < hi[layer].length; i++) {
                    long sum = lo[layer][i] + other.lo[layer][i];
                    long carry = Long.compareUnsigned(sum, lo[layer][i]) < 0 ? 1 : 0;
                    hi[layer][i] = hi[layer][i] + other.hi[layer][i] + carry;
                    lo[layer][i] = sum;
                }
            }
        }

        /** The exact 128-bit sum, correctly rounded to double, unscaled, divided by the count. */
        double mean(int layer, int i) {
            long h = hi[layer][i];
            long l = lo[layer][i];
            double sum = h == (l >> 63)
                    ? (double) l // fits in a long
                    : BigInteger.valueOf(h).shiftLeft(64).add(BigInteger.valueOf(l).and(LOW_64_BITS)).doubleValue();
            return Math.scalb(sum, -FRACTION_BITS) / count;
        }

        @Override
        public boolean equals(Object o) {
            return o instanceof Sums other && count == other.count && Arrays.deepEquals(hi, other.hi) && Arrays.deepEquals(lo, other.lo);
        }

        @Override
        public int hashCode() {
            return Objects.hash(count, Arrays.deepHashCode(hi), Arrays.deepHashCode(lo));
        }
    }
}
