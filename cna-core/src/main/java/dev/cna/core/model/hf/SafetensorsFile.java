package dev.cna.core.model.hf;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.cna.core.model.HostTensor;
import dev.cna.core.model.ModelFormatException;
import dev.cna.core.model.RawTensor;
import dev.cna.core.model.gguf.Dequantizer;
import dev.cna.core.model.gguf.GgmlType;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.Arrays;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * One .safetensors file: an 8-byte little-endian header length, a JSON header naming each tensor's dtype,
 * shape and byte range, then the data. Tensors are memory-mapped and converted to f32 on request.
 */
public final class SafetensorsFile implements AutoCloseable {
    /** Real headers are at most a few MB; a larger length means a corrupt or foreign file. */
    private static final long MAX_HEADER_BYTES = 100L << 20;
    private static final ObjectMapper JSON = new ObjectMapper();

    /** Bytes per element of every safetensors dtype, so byte ranges can be checked even for dtypes we cannot load. */
    private static final Map<String, Integer> DTYPE_BYTES = Map.ofEntries(
            Map.entry("F64", 8), Map.entry("F32", 4), Map.entry("F16", 2), Map.entry("BF16", 2),
            Map.entry("F8_E4M3", 1), Map.entry("F8_E5M2", 1),
            Map.entry("I64", 8), Map.entry("I32", 4), Map.entry("I16", 2), Map.entry("I8", 1),
            Map.entry("U64", 8), Map.entry("U32", 4), Map.entry("U16", 2), Map.entry("U8", 1), Map.entry("BOOL", 1));

    /** The dtypes we load, with the ggml type whose little-endian layout is the same. */
    private static final Map<String, GgmlType> LOADABLE = Map.of("F32", GgmlType.F32, "F16", GgmlType.F16, "BF16", GgmlType.BF16);

    /** One header entry; shape is outermost dimension first, begin/end are relative to the data section. */
    public record TensorInfo(String name, String dtype, int[] shape, long begin, long end) {
        public long elements() {
            return Arrays.stream(shape).asLongStream().reduce(1, Math::multiplyExact);
        }

        public boolean loadable() {
            return LOADABLE.containsKey(dtype);
        }
    }

    private final Path path;
    private final Map<String, TensorInfo> tensors;
    private final long dataStart;
    private final FileChannel channel;

    private SafetensorsFile(Path path, Map<String, TensorInfo> tensors, long dataStart, FileChannel channel) {
        this.path = path;
        this.tensors = tensors;
        this.dataStart = dataStart;
        this.channel = channel;
    }

    public static SafetensorsFile open(Path path) {
        FileChannel channel;
        try {
            channel = FileChannel.open(path, StandardOpenOption.READ);
        } catch (IOException e) {
            throw new ModelFormatException(path, null, "cannot open: " + e, e);
        }
        try {
            long size = channel.size();
            if (size < 8) {
                throw new ModelFormatException(path, null, "file is truncated: " + size + " bytes, less than the 8-byte header length");
            }
            long headerLength = read(channel, 0, 8).getLong();
            if (headerLength < 2 || headerLength > MAX_HEADER_BYTES) {
                throw new ModelFormatException(path, null, "header length " + headerLength + " is not plausible (not a safetensors file?)");
            }
            if (8 + headerLength > size) {
                throw new ModelFormatException(path, null,
                        "file is truncated: the header needs " + (8 + headerLength) + " bytes but the file has " + size);
            }
            ByteBuffer header = read(channel, 8, (int) headerLength);
            Map<String, TensorInfo> tensors = parseHeader(path, new String(header.array(), StandardCharsets.UTF_8));
            long dataStart = 8 + headerLength;
            for (TensorInfo t : tensors.values()) {
                if (dataStart + t.end > size) {
                    throw new ModelFormatException(path, t.name, "file is truncated: the tensor data ends at byte "
                            + (dataStart + t.end) + " but the file has " + size + " bytes");
                }
            }
            return new SafetensorsFile(path, tensors, dataStart, channel);
        } catch (IOException e) {
            closeQuietly(channel);
            throw new ModelFormatException(path, null, "cannot read: " + e, e);
        } catch (RuntimeException e) {
            closeQuietly(channel);
            throw e;
        }
    }

    private static Map<String, TensorInfo> parseHeader(Path path, String text) {
        JsonNode root;
        try {
            root = JSON.readTree(text);
        } catch (JsonProcessingException e) {
            throw new ModelFormatException(path, null, "header is not valid JSON: " + e.getOriginalMessage(), e);
        }
        if (root == null || !root.isObject()) {
            throw new ModelFormatException(path, null, "header is not a JSON object");
        }
        Map<String, TensorInfo> tensors = new LinkedHashMap<>();
        for (Map.Entry<String, JsonNode> field : root.properties()) {
            if (!field.getKey().equals("__metadata__")) {
                tensors.put(field.getKey(), parseEntry(path, field.getKey(), field.getValue()));
            }
        }
        return Collections.unmodifiableMap(tensors);
    }

    private static TensorInfo parseEntry(Path path, String name, JsonNode entry) {
        JsonNode dtype = entry.get("dtype");
        JsonNode shape = entry.get("shape");
        JsonNode offsets = entry.get("data_offsets");
        if (dtype == null || !dtype.isTextual() || shape == null || !shape.isArray()
                || offsets == null || !offsets.isArray() || offsets.size() != 2) {
            throw new ModelFormatException(path, name, "header entry needs dtype, shape and data_offsets [begin, end]: " + entry);
        }
        int[] dims = new int[shape.size()];
        for (int i = 0; i < dims.length; i++) {
            if (!shape.get(i).canConvertToInt() || shape.get(i).asInt() < 0) {
                throw new ModelFormatException(path, name, "bad shape " + shape);
            }
            dims[i] = shape.get(i).asInt();
        }
        long begin = offsets.get(0).asLong(-1);
        long end = offsets.get(1).asLong(-1);
        if (begin < 0 || end < begin) {
            throw new ModelFormatException(path, name, "bad data_offsets " + offsets);
        }
        TensorInfo info = new TensorInfo(name, dtype.asText(), dims, begin, end);
        Integer bytes = DTYPE_BYTES.get(info.dtype);
        if (bytes != null && info.elements() * bytes != end - begin) {
            throw new ModelFormatException(path, name, "data_offsets " + offsets + " span " + (end - begin)
                    + " bytes but " + info.dtype + " " + shape + " needs " + info.elements() * bytes);
        }
        return info;
    }

    public Path path() { return path; }

    public Map<String, TensorInfo> tensors() { return tensors; }

    /** The named tensor, if present and of a dtype this reader converts; else the error naming it and why. */
    private TensorInfo loadable(String name) {
        TensorInfo t = tensors.get(name);
        if (t == null) {
            throw new ModelFormatException(path, name, "tensor not found");
        }
        if (!LOADABLE.containsKey(t.dtype)) {
            throw new ModelFormatException(path, name, "dtype " + t.dtype + " is not supported (supported: F32, F16, BF16)");
        }
        return t;
    }

    /** The tensor converted to f32, named as in the file. */
    public HostTensor load(String name) {
        TensorInfo t = loadable(name);
        GgmlType layout = LOADABLE.get(t.dtype);
        if (t.elements() > Integer.MAX_VALUE - 8) {
            throw new ModelFormatException(path, name, "tensor has " + t.elements() + " values, more than one Java array holds");
        }
        float[] data = new float[(int) t.elements()];
        try {
            ByteBuffer bytes = channel.map(FileChannel.MapMode.READ_ONLY, dataStart + t.begin, t.end - t.begin);
            Dequantizer.dequantize(layout, bytes.order(ByteOrder.LITTLE_ENDIAN), data);
        } catch (IOException e) {
            throw new ModelFormatException(path, name, "cannot map tensor data: " + e, e);
        }
        return new HostTensor(name, t.shape, data);
    }

    /** The tensor as stored (F32, F16 or BF16 values), memory-mapped, as a matrix of rows x the innermost dimension. */
    public RawTensor raw(String name) {
        TensorInfo t = loadable(name);
        GgmlType layout = LOADABLE.get(t.dtype);
        int cols = t.shape.length == 0 ? 1 : t.shape[t.shape.length - 1];
        try {
            ByteBuffer bytes = channel.map(FileChannel.MapMode.READ_ONLY, dataStart + t.begin, t.end - t.begin);
            return new RawTensor(path, name, layout, (int) (t.elements() / cols), cols, bytes.order(ByteOrder.LITTLE_ENDIAN));
        } catch (IOException e) {
            throw new ModelFormatException(path, name, "cannot map tensor data: " + e, e);
        }
    }

    private static ByteBuffer read(FileChannel channel, long position, int length) throws IOException {
        ByteBuffer buf = ByteBuffer.allocate(length).order(ByteOrder.LITTLE_ENDIAN);
        while (buf.hasRemaining()) {
            if (channel.read(buf, position + buf.position()) < 0) {
                throw new IOException("unexpected end of file");
            }
        }
        return buf.flip();
    }

    @Override
    public void close() {
        closeQuietly(channel);
    }

    private static void closeQuietly(FileChannel channel) {
        try {
            channel.close();
        } catch (IOException ignored) {
            // closing a read-only channel has nothing to flush
        }
    }
}
