package dev.cna.core.model.gguf;

import dev.cna.core.model.HostTensor;
import dev.cna.core.model.ModelFormatException;

import java.io.BufferedInputStream;
import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.MappedByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * A GGUF v2/v3 file: the metadata key/values, the tensor table, and the tensor data, memory-mapped and
 * dequantized to f32 on request. Layout: header, metadata, tensor infos, padding to the alignment, data.
 */
public final class GgufFile implements AutoCloseable {
    private static final int MAGIC = 0x46554747; // "GGUF" read little-endian
    private static final int DEFAULT_ALIGNMENT = 32;

    /** One entry of the tensor table; dims are ggml's ne[], innermost (contiguous) first. */
    public record TensorInfo(String name, long[] dims, GgmlType type, long offset) {
        public long elements() {
            return Arrays.stream(dims).reduce(1, Math::multiplyExact);
        }

        public long bytes() {
            return type.bytesFor(elements());
        }
    }

    private final Path path;
    private final int version;
    private final Map<String, Object> metadata;
    private final Map<String, TensorInfo> tensors;
    private final long dataStart;
    private final FileChannel channel;

    private GgufFile(Path path, int version, Map<String, Object> metadata, Map<String, TensorInfo> tensors,
                     long dataStart, FileChannel channel) {
        this.path = path;
        this.version = version;
        this.metadata = metadata;
        this.tensors = tensors;
        this.dataStart = dataStart;
        this.channel = channel;
    }

    public static GgufFile open(Path path) {
        try (InputStream in = new BufferedInputStream(Files.newInputStream(path), 1 << 16)) {
            HeaderReader r = new HeaderReader(in);
            if (r.i32() != MAGIC) {
                throw new ModelFormatException(path, null, "not a GGUF file (bad magic)");
            }
            int version = r.i32();
            if (version != 2 && version != 3) {
                throw new ModelFormatException(path, null, "unsupported GGUF version " + version + " (expected 3)");
            }
            long tensorCount = r.i64();
            long kvCount = r.i64();
            Map<String, Object> metadata = new LinkedHashMap<>();
            for (long i = 0; i < kvCount; i++) {
                String key = r.string();
                metadata.put(key, r.value(r.i32()));
            }
            Map<String, TensorInfo> tensors = new LinkedHashMap<>();
            for (long i = 0; i < tensorCount; i++) {
                String name = r.string();
                long[] dims = new long[r.i32()];
                for (int d = 0; d < dims.length; d++) {
                    dims[d] = r.i64();
                }
                int typeId = r.i32();
                GgmlType type = GgmlType.byId(typeId);
                if (type == null) {
                    throw new ModelFormatException(path, name, "unknown tensor type id " + typeId);
                }
                tensors.put(name, new TensorInfo(name, dims, type, r.i64()));
            }
            int alignment = metadata.get("general.alignment") instanceof Number n ? n.intValue() : DEFAULT_ALIGNMENT;
            long dataStart = (r.position + alignment - 1) / alignment * alignment;
            FileChannel channel = FileChannel.open(path, StandardOpenOption.READ);
            long fileSize = channel.size();
            for (TensorInfo t : tensors.values()) {
                if (t.offset % alignment != 0) {
                    channel.close();
                    throw new ModelFormatException(path, t.name, "data offset " + t.offset + " is not aligned to " + alignment);
                }
                long end = dataStart + t.offset + t.bytes();
                if (end > fileSize) {
                    channel.close();
                    throw new ModelFormatException(path, t.name,
                            "file is truncated: the tensor ends at byte " + end + " but the file has " + fileSize + " bytes");
                }
            }
            return new GgufFile(path, version, Collections.unmodifiableMap(metadata),
                    Collections.unmodifiableMap(tensors), dataStart, channel);
        } catch (EOFException e) {
            throw new ModelFormatException(path, null, "file is truncated inside the header", e);
        } catch (IOException e) {
            throw new ModelFormatException(path, null, "cannot read: " + e.getMessage(), e);
        }
    }

    public Path path() { return path; }

    public int version() { return version; }

    public Map<String, Object> metadata() { return metadata; }

    public Map<String, TensorInfo> tensors() { return tensors; }

    public String string(String key) {
        return metadata.get(key) instanceof String s ? s : null;
    }

    /** A numeric metadata value, or the fallback when the key is absent. */
    public Number number(String key, Number fallback) {
        return metadata.get(key) instanceof Number n ? n : fallback;
    }

    /** A metadata value that must be present, with an error naming the key otherwise. */
    public Object required(String key) {
        Object v = metadata.get(key);
        if (v == null) {
            throw new ModelFormatException(path, null, "missing metadata key " + key);
        }
        return v;
    }

    /** The raw bytes of a tensor, memory-mapped (little-endian). */
    public ByteBuffer rawData(TensorInfo t) {
        try {
            MappedByteBuffer buf = channel.map(FileChannel.MapMode.READ_ONLY, dataStart + t.offset, t.bytes());
            return buf.order(ByteOrder.LITTLE_ENDIAN);
        } catch (IOException e) {
            throw new ModelFormatException(path, t.name, "cannot map tensor data: " + e.getMessage(), e);
        }
    }

    /** The tensor dequantized to f32, shaped outermost dimension first (the reverse of ggml's ne[]). */
    public HostTensor load(String name) {
        TensorInfo t = tensors.get(name);
        if (t == null) {
            throw new ModelFormatException(path, name, "tensor not found");
        }
        long n = t.elements();
        if (n > Integer.MAX_VALUE - 8) {
            throw new ModelFormatException(path, name, "tensor has " + n + " values, more than one Java array holds");
        }
        if (t.dims[0] % t.type.blockSize != 0) {
            throw new ModelFormatException(path, name,
                    "row length " + t.dims[0] + " is not a multiple of the " + t.type + " block size " + t.type.blockSize);
        }
        float[] data = new float[(int) n];
        try {
            Dequantizer.dequantize(t.type, rawData(t), data);
        } catch (UnsupportedOperationException e) {
            throw new ModelFormatException(path, name, e.getMessage(), e);
        }
        int[] shape = new int[t.dims.length];
        for (int i = 0; i < shape.length; i++) {
            shape[i] = Math.toIntExact(t.dims[t.dims.length - 1 - i]);
        }
        return new HostTensor(name, shape, data);
    }

    @Override
    public void close() {
        try {
            channel.close();
        } catch (IOException ignored) {
            // closing a read-only channel has nothing to flush
        }
    }

    /** Little-endian reads from the header stream, counting the bytes consumed. */
    private static final class HeaderReader {
        private final InputStream in;
        private final byte[] scratch = new byte[8];
        long position;

        HeaderReader(InputStream in) {
            this.in = in;
        }

        private ByteBuffer read(int n) throws IOException {
            byte[] b = n <= scratch.length ? scratch : new byte[n];
            int off = 0;
            while (off < n) {
                int k = in.read(b, off, n - off);
                if (k < 0) {
                    throw new EOFException();
                }
                off += k;
            }
            position += n;
            return ByteBuffer.wrap(b, 0, n).order(ByteOrder.LITTLE_ENDIAN);
        }

        int i32() throws IOException { return read(4).getInt(); }

        long i64() throws IOException { return read(8).getLong(); }

        String string() throws IOException {
            long len = i64();
            if (len < 0 || len > Integer.MAX_VALUE) {
                throw new IOException("string length " + len + " is not plausible");
            }
            ByteBuffer b = read((int) len);
            return new String(b.array(), 0, (int) len, StandardCharsets.UTF_8);
        }

        Object value(int type) throws IOException {
            return switch (type) {
                case 0 -> read(1).get() & 0xFF;
                case 1 -> (int) read(1).get();
                case 2 -> read(2).getShort() & 0xFFFF;
                case 3 -> (int) read(2).getShort();
                case 4 -> read(4).getInt() & 0xFFFFFFFFL;
                case 5 -> read(4).getInt();
                case 6 -> read(4).getFloat();
                case 7 -> read(1).get() != 0;
                case 8 -> string();
                case 9 -> array();
                case 10, 11 -> read(8).getLong();
                case 12 -> read(8).getDouble();
                default -> throw new IOException("unknown metadata value type " + type);
            };
        }

        private List<Object> array() throws IOException {
            int elementType = i32();
            long count = i64();
            if (count < 0 || count > Integer.MAX_VALUE) {
                throw new IOException("array length " + count + " is not plausible");
            }
            List<Object> list = new ArrayList<>((int) Math.min(count, 1 << 20));
            for (long i = 0; i < count; i++) {
                list.add(value(elementType));
            }
            return list;
        }
    }
}
