package dev.cna.core.runtime.quant;

import dev.cna.core.model.gguf.Dequantizer;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.VectorMask;
import jdk.incubator.vector.VectorShape;
import jdk.incubator.vector.VectorShuffle;
import jdk.incubator.vector.VectorSpecies;

import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.nio.ByteOrder;

/**
 * The vector shapes every kernel uses, and the scalar helpers they share. One float vector holds {@link #L} lanes
 * (16 with AVX-512, 8 with AVX2); quantized bytes are widened to ints lane for lane
 * ({@code ByteVector.fromArray(B1, ..).castShape(I, 0)}), so a group of L bytes becomes one int vector and one
 * float vector. Only L = 8 and L = 16 are vectorized (both divide the 32-value blocks); any other shape, or {@code -Dcna.quant.simd=false}, leaves {@link #ENABLED} false and
 * QuantizedMatrix uses its scalar path. {@code -Dcna.quant.vectorBits=256} forces AVX2-sized vectors on an
 * AVX-512 machine (for benchmarks).
 *
 * <p>Rule for the kernels: no method of ours takes or returns a vector. C2 only keeps vectors in registers when
 * every call on them is inlined; the Vector API's own methods are force-inlined, but a helper of ours can be left
 * out when the caller hits the inlining budget (seen: kernels inlined into a switch over the type, see RowKernel), and
 * then every vector crossing it is boxed on the heap, 5-30x slower. So the kernels spell their vector code out and
 * call helpers only with scalars. For the same reason conversions name their target species
 * ({@code castShape(F, 0)}, {@code reinterpretShape(F, 0)}) instead of {@code convert(I2F, 0)} or
 * {@code reinterpretAsFloats()}: those look the species up ({@code withLanes}), and once several kernels have run
 * C2 may not fold that lookup (seen on JDK 17: "VectorSupport::convert failed to inline (intrinsic)" in Q4_0's
 * decoder after F16 and Q8_0 had run, 15x slower). And a kernel method keeps its Vector API calls few: Q6_K's
 * decoder, with four values a lane per iteration, ran its last conversions and stores on the Java fallback in some
 * runs once other kernels had run (a large graph, we think, past what C2 inlines); in two methods of two values each
 * it did not in 15 runs.
 *
 * <p>Only this package's kernels touch this class: it needs {@code --add-modules jdk.incubator.vector}.
 */
final class Simd {
    private Simd() {}

    static final int BITS = Integer.getInteger("cna.quant.vectorBits", FloatVector.SPECIES_PREFERRED.vectorBitSize());
    static final boolean ENABLED = (BITS == 256 || BITS == 512)
            && !"false".equals(System.getProperty("cna.quant.simd"));
    private static final int SHAPE_BITS = ENABLED ? BITS : 256;

    /** Floats and ints of the chosen shape, L lanes. */
    static final VectorSpecies<Float> F = VectorSpecies.of(float.class, VectorShape.forBitSize(SHAPE_BITS));
    static final VectorSpecies<Integer> I = VectorSpecies.of(int.class, VectorShape.forBitSize(SHAPE_BITS));
    static final int L = F.length();
    /** L bytes (widened to L ints), 2L bytes (L f16/bf16 values), 4L bytes (L f32 values). */
    static final VectorSpecies<Byte> B1 = VectorSpecies.of(byte.class, VectorShape.forBitSize(SHAPE_BITS / 4));
    static final VectorSpecies<Byte> B2 = VectorSpecies.of(byte.class, VectorShape.forBitSize(SHAPE_BITS / 2));
    static final VectorSpecies<Byte> B4 = VectorSpecies.of(byte.class, VectorShape.forBitSize(SHAPE_BITS));
    /** L shorts (the 2L bytes of B2 seen as f16/bf16 values). */
    static final VectorSpecies<Short> S = VectorSpecies.of(short.class, VectorShape.forBitSize(SHAPE_BITS / 2));
    /**
     * Shuffles for the lane sum at the end of a row: pair lane i with lane i ^ d, d = L/2 .. 1 (R8 only when L = 16).
     * The kernels sum lanes with these instead of {@code reduceLanes(ADD)}, whose order is not fixed: JDK 17 adds the
     * lanes in sequence, later C2s (JDK 25) in a tree while the interpreter still adds in sequence, so a row's last
     * bits would depend on whether its kernel was compiled yet. With fixed pairs every JDK and tier gives the same bits.
     */
    static final VectorShuffle<Float> R8 = VectorShuffle.fromOp(F, i -> L == 16 ? i ^ 8 : i);
    static final VectorShuffle<Float> R4 = VectorShuffle.fromOp(F, i -> i ^ 4);
    static final VectorShuffle<Float> R2 = VectorShuffle.fromOp(F, i -> i ^ 2);
    static final VectorShuffle<Float> R1 = VectorShuffle.fromOp(F, i -> i ^ 1);
    /**
     * The lane sums of several vectors at once (sixteen in F32Kernels.dotBatch4, two in the two-row matVec
     * kernels): level k (k = 1, 2, 3, and 4 when L = 16)
     * merges pairs of vectors A, B into one holding, in the lanes with bit d = L >> k clear, A[i] + A[i ^ d] and,
     * in the lanes with it set, B[i] + B[i ^ d]: {@code A.blend(B, Kk).add(B.blend(A, Kk).rearrange(Pk))}. Each
     * sum is the same pairwise tree as R8..R1, so the bits equal a lane sum of one vector.
     */
    static final VectorShuffle<Float> P1 = VectorShuffle.fromOp(F, i -> i ^ (L >> 1));
    static final VectorShuffle<Float> P2 = VectorShuffle.fromOp(F, i -> i ^ (L >> 2));
    static final VectorShuffle<Float> P3 = VectorShuffle.fromOp(F, i -> i ^ (L >> 3));
    static final VectorShuffle<Float> P4 = VectorShuffle.fromOp(F, i -> L == 16 ? i ^ 1 : i);
    static final VectorMask<Float> K1 = bit(L >> 1);
    static final VectorMask<Float> K2 = bit(L >> 2);
    static final VectorMask<Float> K3 = bit(L >> 3);
    static final VectorMask<Float> K4 = bit(L == 16 ? 1 : 0);

    private static VectorMask<Float> bit(int d) {
        boolean[] set = new boolean[L];
        for (int i = 0; i < L; i++) {
            set[i] = (i & d) != 0;
        }
        return VectorMask.fromArray(F, set, 0);
    }

    /** Lane j holds j: per-lane shift counts for unpacking bit fields. */
    static final IntVector IOTA = IntVector.zero(I).addIndex(1);

    private static final VarHandle SHORT = MethodHandles.byteArrayViewVarHandle(short[].class, ByteOrder.LITTLE_ENDIAN);
    private static final VarHandle INT = MethodHandles.byteArrayViewVarHandle(int[].class, ByteOrder.LITTLE_ENDIAN);

    /** Every f16 bit pattern as a float: a scale's conversion is one load (a branchy conversion cost ~40% of a Q4_1 dot). */
    private static final float[] HALVES = new float[1 << 16];

    static {
        for (int h = 0; h < HALVES.length; h++) {
            HALVES[h] = Dequantizer.halfToFloat((short) h);
        }
    }

    /** A little-endian f16 at w[at] as a float. */
    static float half(byte[] w, int at) {
        return HALVES[(short) SHORT.get(w, at) & 0xFFFF];
    }

    static int u32(byte[] w, int at) {
        return (int) INT.get(w, at);
    }

    /** Sums of x over consecutive groups of {@code group} values (the activation side of the offset and min terms). */
    static float[] groupSums(float[] x, int n, int group) {
        float[] sums = new float[n / group];
        for (int g = 0; g < sums.length; g++) {
            float s = 0;
            for (int j = g * group, end = j + group; j < end; j++) {
                s += x[j];
            }
            sums[g] = s;
        }
        return sums;
    }
}
