package dev.cna.core.model;

import dev.cna.core.model.hf.SafetensorsFile;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** SafetensorsFile on files written byte by byte here, independently of SyntheticModels. */
class SafetensorsTest {
    @TempDir
    Path dir;

    @Test
    void readsF32F16AndBf16WithTheirShapes() throws IOException {
        ByteBuffer data = ByteBuffer.allocate(4 * 6 + 2 * 4 + 2 * 3).order(ByteOrder.LITTLE_ENDIAN);
        for (float v : new float[] {1.5f, -2f, 0f, 3.25f, 1e-30f, Float.MAX_VALUE}) {
            data.putFloat(v);
        }
        for (int half : new int[] {0x3C00, 0xC000, 0x0001, 0x7BFF}) { // 1, -2, 2^-24, 65504
            data.putShort((short) half);
        }
        for (int bf16 : new int[] {0x3F80, 0xC0A0, 0x0080}) { // 1, -5, 2^-126
            data.putShort((short) bf16);
        }
        Path file = write("{\"__metadata__\":{\"format\":\"pt\"},"
                + "\"a\":{\"dtype\":\"F32\",\"shape\":[2,3],\"data_offsets\":[0,24]},"
                + "\"b\":{\"dtype\":\"F16\",\"shape\":[4],\"data_offsets\":[24,32]},"
                + "\"c\":{\"dtype\":\"BF16\",\"shape\":[3,1],\"data_offsets\":[32,38]}}", data.array());

        try (SafetensorsFile st = SafetensorsFile.open(file)) {
            assertEquals(List.of("a", "b", "c"), List.copyOf(st.tensors().keySet()), "__metadata__ is not a tensor");
            HostTensor a = st.load("a");
            assertArrayEquals(new int[] {2, 3}, a.shape());
            assertArrayEquals(new float[] {1.5f, -2f, 0f, 3.25f, 1e-30f, Float.MAX_VALUE}, a.data());
            assertArrayEquals(new float[] {1f, -2f, 0x1p-24f, 65504f}, st.load("b").data());
            HostTensor c = st.load("c");
            assertArrayEquals(new int[] {3, 1}, c.shape());
            assertArrayEquals(new float[] {1f, -5f, 0x1p-126f}, c.data());
        }
    }

    @Test
    void scalarTensorHasOneValue() throws IOException {
        byte[] data = ByteBuffer.allocate(4).order(ByteOrder.LITTLE_ENDIAN).putFloat(7f).array();
        try (SafetensorsFile st = SafetensorsFile.open(write("{\"s\":{\"dtype\":\"F32\",\"shape\":[],\"data_offsets\":[0,4]}}", data))) {
            HostTensor s = st.load("s");
            assertEquals(0, s.shape().length);
            assertArrayEquals(new float[] {7f}, s.data());
        }
    }

    @Test
    void unsupportedDtypeOpensButCannotBeLoaded() throws IOException {
        // an I64 buffer (like old position_ids) must not stop the file from opening, only its own load
        Path file = write("{\"ids\":{\"dtype\":\"I64\",\"shape\":[2],\"data_offsets\":[0,16]},"
                + "\"w\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[16,20]}}", new byte[20]);
        try (SafetensorsFile st = SafetensorsFile.open(file)) {
            assertArrayEquals(new float[] {0f}, st.load("w").data());
            ModelFormatException e = assertThrows(ModelFormatException.class, () -> st.load("ids"));
            assertEquals(file + ": tensor ids: dtype I64 is not supported (supported: F32, F16, BF16)", e.getMessage());
        }
    }

    @Test
    void byteRangeThatDisagreesWithShapeAndDtype() throws IOException {
        Path file = write("{\"w\":{\"dtype\":\"F16\",\"shape\":[4],\"data_offsets\":[0,16]}}", new byte[16]);
        ModelFormatException e = assertThrows(ModelFormatException.class, () -> SafetensorsFile.open(file));
        assertTrue(e.getMessage().startsWith(file + ": tensor w: "), e.getMessage());
        assertTrue(e.getMessage().contains("span 16 bytes but F16 [4] needs 8"), e.getMessage());
    }

    @Test
    void dataShorterThanTheHeaderSays() throws IOException {
        Path file = write("{\"w\":{\"dtype\":\"F32\",\"shape\":[4],\"data_offsets\":[0,16]}}", new byte[12]);
        ModelFormatException e = assertThrows(ModelFormatException.class, () -> SafetensorsFile.open(file));
        assertTrue(e.getMessage().startsWith(file + ": tensor w: file is truncated"), e.getMessage());
    }

    @Test
    void headerThatIsNotATensorTable() throws IOException {
        Path list = write("[1, 2, 3]", new byte[0]);
        assertEquals(list + ": header is not a JSON object",
                assertThrows(ModelFormatException.class, () -> SafetensorsFile.open(list)).getMessage());
        Path entry = write("{\"w\":{\"dtype\":\"F32\",\"shape\":[1]}}", new byte[4]);
        assertTrue(assertThrows(ModelFormatException.class, () -> SafetensorsFile.open(entry)).getMessage()
                .startsWith(entry + ": tensor w: header entry needs dtype, shape and data_offsets"));
    }

    @Test
    void implausibleHeaderLength() throws IOException {
        Path file = dir.resolve("huge.safetensors");
        Files.write(file, ByteBuffer.allocate(16).order(ByteOrder.LITTLE_ENDIAN).putLong(1L << 40).array());
        ModelFormatException e = assertThrows(ModelFormatException.class, () -> SafetensorsFile.open(file));
        assertTrue(e.getMessage().contains("header length 1099511627776 is not plausible"), e.getMessage());
    }

    @Test
    void missingTensorNamesTheFile() throws IOException {
        Path file = write("{}", new byte[0]);
        try (SafetensorsFile st = SafetensorsFile.open(file)) {
            assertEquals(file + ": tensor nope: tensor not found",
                    assertThrows(ModelFormatException.class, () -> st.load("nope")).getMessage());
        }
    }

    private int files;

    /** A safetensors file: u64 little-endian header length, the header, the data. */
    private Path write(String header, byte[] data) throws IOException {
        byte[] json = header.getBytes(StandardCharsets.UTF_8);
        ByteBuffer out = ByteBuffer.allocate(8 + json.length + data.length).order(ByteOrder.LITTLE_ENDIAN);
        out.putLong(json.length).put(json).put(data);
        Path file = dir.resolve("t" + files++ + ".safetensors");
        Files.write(file, out.array());
        return file;
    }
}
