package dev.cna.core.model.gguf;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.cna.core.model.ModelFormatException;
import dev.cna.core.tokenizer.TokenizerSpec;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * Builds the Hugging Face tokenizer.json equivalent of a GGUF file's tokenizer, following what llama.cpp
 * does with the same metadata (src/llama-vocab.cpp), so that both tokenize a text into the same ids.
 *
 * <p>Supported: {@code tokenizer.ggml.model} "gpt2" (byte-level BPE; the pre-tokenizer is chosen from
 * {@code tokenizer.ggml.pre}) and "llama" (SentencePiece BPE with byte fallback; merges are derived from
 * the token scores as Hugging Face's SentencePiece converter does).
 */
public final class GgufTokenizer {
    // llama.cpp's llama_token_type values
    private static final int TYPE_UNKNOWN = 2;
    private static final int TYPE_CONTROL = 3;
    private static final int TYPE_USER_DEFINED = 4;

    /** SentencePiece's stand-in for a space. */
    private static final String SPIECE_SPACE = "\u2581";

    // The regexes llama.cpp uses per pre-tokenizer type (in Hugging Face's original spelling).
    private static final String GPT2_REGEX =
            "'s|'t|'re|'ve|'m|'ll|'d| ?\\p{L}+| ?\\p{N}+| ?[^\\s\\p{L}\\p{N}]+|\\s+(?!\\S)";
    private static final String LLAMA3_REGEX =
            "(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\\r\\n\\p{L}\\p{N}]?\\p{L}+|\\p{N}{1,3}| ?[^\\s\\p{L}\\p{N}]+[\\r\\n]*"
                    + "|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+";
    private static final String QWEN2_REGEX =
            "(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\\r\\n\\p{L}\\p{N}]?\\p{L}+|\\p{N}| ?[^\\s\\p{L}\\p{N}]+[\\r\\n]*"
                    + "|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+";
    /** llama.cpp's "default" BPE pre-tokenizer: four regexes applied one after the other. */
    private static final List<String> DEFAULT_REGEXES =
            List.of("[\\p{P}\\$\\+<=>\\^~\\|]+", GPT2_REGEX, "\\p{N}+", "[0-9][0-9][0-9]");

    private static final ObjectMapper JSON = new ObjectMapper();
    private static final JsonNodeFactory NODES = JsonNodeFactory.instance;

    private GgufTokenizer() {}

    /** The tokenizer of a GGUF file. */
    public static TokenizerSpec fromGguf(GgufFile gguf) {
        return fromMetadata(gguf.path(), gguf.metadata());
    }

    /** The tokenizer described by GGUF metadata; {@code file} only names the source in errors. */
    public static TokenizerSpec fromMetadata(Path file, Map<String, Object> metadata) {
        Vocab vocab = Vocab.read(file, metadata);
        String model = requiredString(file, metadata, "tokenizer.ggml.model");
        ObjectNode root = NODES.objectNode();
        root.put("version", "1.0");
        root.putNull("truncation");
        root.putNull("padding");
        root.set("added_tokens", addedTokens(vocab));
        root.putNull("post_processor"); // BOS is added by Tokenizer.encodePrompt, not by the tokenizer
        boolean addBosByDefault;
        switch (model) {
            case "gpt2" -> {
                String pre = metadata.get("tokenizer.ggml.pre") instanceof String s ? s : "default";
                PreTokenizer preTokenizer = PreTokenizer.forName(file, pre);
                root.putNull("normalizer");
                root.set("pre_tokenizer", preTokenizer.json());
                root.set("model", byteLevelBpe(file, metadata, vocab, preTokenizer.ignoreMerges()));
                root.set("decoder", byteLevel(true));
                addBosByDefault = preTokenizer.addBos();
            }
            case "llama" -> {
                boolean spacePrefix = bool(metadata, "tokenizer.ggml.add_space_prefix", true);
                root.set("normalizer", spmNormalizer(spacePrefix));
                root.putNull("pre_tokenizer");
                root.set("model", spmBpe(file, metadata, vocab));
                root.set("decoder", spmDecoder(spacePrefix));
                addBosByDefault = true;
            }
            default -> throw new ModelFormatException(file, null, "unsupported tokenizer.ggml.model '" + model
                    + "' (supported: gpt2, llama)");
        }

        Integer bos = tokenId(file, metadata, vocab, "tokenizer.ggml.bos_token_id");
        Integer eos = tokenId(file, metadata, vocab, "tokenizer.ggml.eos_token_id");
        Integer eot = tokenId(file, metadata, vocab, "tokenizer.ggml.eot_token_id");
        if (eos == null) {
            throw new ModelFormatException(file, null, "missing metadata key tokenizer.ggml.eos_token_id");
        }
        List<String> stops = new ArrayList<>(List.of(vocab.tokens.get(eos)));
        if (eot != null && !eot.equals(eos)) {
            stops.add(vocab.tokens.get(eot));
        }
        String bosToken = bos == null ? null : vocab.tokens.get(bos);
        boolean addBos = bos != null && bool(metadata, "tokenizer.ggml.add_bos_token", addBosByDefault);
        String template = metadata.get("tokenizer.chat_template") instanceof String s ? s : null;
        try {
            return new TokenizerSpec(JSON.writeValueAsString(root), template, bosToken, addBos, List.copyOf(stops));
        } catch (JsonProcessingException e) {
            throw new IllegalStateException("cannot write tokenizer.json", e);
        }
    }

    /** The token texts and their llama.cpp token types. */
    private record Vocab(List<String> tokens, int[] types, Map<String, Integer> ids) {
        static Vocab read(Path file, Map<String, Object> metadata) {
            List<String> tokens = new ArrayList<>();
            for (Object t : requiredList(file, metadata, "tokenizer.ggml.tokens")) {
                tokens.add((String) t);
            }
            int[] types = new int[tokens.size()];
            Object typeList = metadata.get("tokenizer.ggml.token_type");
            for (int i = 0; i < types.length; i++) {
                types[i] = typeList instanceof List<?> l ? ((Number) l.get(i)).intValue() : 1;
            }
            Map<String, Integer> ids = new HashMap<>(tokens.size() * 2);
            for (int i = 0; i < tokens.size(); i++) {
                Integer previous = ids.putIfAbsent(tokens.get(i), i);
                if (previous != null) {
                    // llama.cpp refuses these too: a text cannot map to two ids
                    throw new ModelFormatException(file, null, "duplicate token '" + tokens.get(i) + "' has ids "
                            + previous + " and " + i);
                }
            }
            return new Vocab(tokens, types, ids);
        }

        ObjectNode json() {
            ObjectNode vocab = NODES.objectNode();
            for (int i = 0; i < tokens.size(); i++) {
                vocab.put(tokens.get(i), i);
            }
            return vocab;
        }
    }

    /**
     * Control, unknown and user-defined tokens are matched in the raw text before the model runs, as
     * llama.cpp does when it parses special tokens. Control and unknown ones are "special".
     */
    private static ArrayNode addedTokens(Vocab vocab) {
        ArrayNode added = NODES.arrayNode();
        for (int i = 0; i < vocab.tokens.size(); i++) {
            int type = vocab.types[i];
            if (type == TYPE_CONTROL || type == TYPE_UNKNOWN || type == TYPE_USER_DEFINED) {
                ObjectNode t = added.addObject();
                t.put("id", i);
                t.put("content", vocab.tokens.get(i));
                t.put("single_word", false);
                t.put("lstrip", false);
                t.put("rstrip", false);
                t.put("normalized", false);
                t.put("special", type != TYPE_USER_DEFINED);
            }
        }
        return added;
    }

    /** A llama.cpp BPE pre-tokenizer type as Hugging Face pre-tokenizers. */
    private record PreTokenizer(ObjectNode json, boolean ignoreMerges, boolean addBos) {
        static PreTokenizer forName(Path file, String pre) {
            return switch (pre) {
                // digits split one by one, then the GPT-2 regex
                case "smollm", "starcoder", "refact", "codeshell" -> {
                    ObjectNode digits = NODES.objectNode().put("type", "Digits").put("individual_digits", true);
                    yield new PreTokenizer(sequence(List.of(digits, byteLevel(true))), false, false);
                }
                case "gpt2", "gpt-2", "phi-2", "mpt", "olmo" -> new PreTokenizer(byteLevel(true), false, false);
                case "llama3", "llama-v3", "llama-bpe" ->
                        new PreTokenizer(splits(List.of(LLAMA3_REGEX)), true, true);
                case "qwen2", "deepseek-r1-qwen", "stablelm2" ->
                        new PreTokenizer(splits(List.of(QWEN2_REGEX)), false, false);
                case "default" -> new PreTokenizer(splits(DEFAULT_REGEXES), false, false);
                default -> throw new ModelFormatException(file, null, "unsupported tokenizer.ggml.pre '" + pre
                        + "' (supported: smollm, starcoder, refact, codeshell, gpt2, gpt-2, phi-2, mpt, olmo, "
                        + "llama3, llama-v3, llama-bpe, qwen2, deepseek-r1-qwen, stablelm2, default)");
            };
        }

        /** Each regex splits the pieces of the one before (matches and gaps both kept), then bytes map to chars. */
        private static ObjectNode splits(List<String> regexes) {
            List<ObjectNode> steps = new ArrayList<>();
            for (String regex : regexes) {
                ObjectNode split = NODES.objectNode().put("type", "Split");
                split.putObject("pattern").put("Regex", regex);
                split.put("behavior", "Isolated").put("invert", false);
                steps.add(split);
            }
            steps.add(byteLevel(false));
            return sequence(steps);
        }

        private static ObjectNode sequence(List<ObjectNode> steps) {
            ObjectNode seq = NODES.objectNode().put("type", "Sequence");
            seq.putArray("pretokenizers").addAll(steps);
            return seq;
        }
    }

    private static ObjectNode byteLevel(boolean useRegex) {
        return NODES.objectNode().put("type", "ByteLevel").put("add_prefix_space", false)
                .put("trim_offsets", true).put("use_regex", useRegex);
    }

    private static ObjectNode bpeModel(Vocab vocab, ArrayNode merges) {
        ObjectNode model = NODES.objectNode().put("type", "BPE");
        model.putNull("dropout");
        model.putNull("unk_token");
        model.putNull("continuing_subword_prefix");
        model.putNull("end_of_word_suffix");
        model.put("fuse_unk", false).put("byte_fallback", false).put("ignore_merges", false);
        model.set("vocab", vocab.json());
        model.set("merges", merges);
        return model;
    }

    private static ObjectNode byteLevelBpe(Path file, Map<String, Object> metadata, Vocab vocab, boolean ignoreMerges) {
        ArrayNode merges = NODES.arrayNode();
        for (Object m : requiredList(file, metadata, "tokenizer.ggml.merges")) {
            String merge = (String) m;
            int space = merge.indexOf(' ', 1); // as llama.cpp: the first space after the first character
            if (space < 0) {
                throw new ModelFormatException(file, null, "malformed merge '" + merge + "' in tokenizer.ggml.merges");
            }
            merges.addArray().add(merge.substring(0, space)).add(merge.substring(space + 1));
        }
        return bpeModel(vocab, merges).put("ignore_merges", ignoreMerges);
    }

    /**
     * SentencePiece BPE as a Hugging Face BPE model: a pair merges when both halves and their concatenation are
     * tokens, and merges producing a higher-scored token go first (Hugging Face's SentencePieceExtractor).
     */
    private static ObjectNode spmBpe(Path file, Map<String, Object> metadata, Vocab vocab) {
        List<?> scores = requiredList(file, metadata, "tokenizer.ggml.scores");
        record Merge(String left, String right, float score, int leftId, int rightId) {}
        List<Merge> found = new ArrayList<>();
        for (int id = 0; id < vocab.tokens.size(); id++) {
            String piece = vocab.tokens.get(id);
            float score = ((Number) scores.get(id)).floatValue();
            for (int cut = piece.offsetByCodePoints(0, 1); cut < piece.length();
                 cut = piece.offsetByCodePoints(cut, 1)) {
                Integer left = vocab.ids.get(piece.substring(0, cut));
                Integer right = vocab.ids.get(piece.substring(cut));
                if (left != null && right != null) {
                    found.add(new Merge(piece.substring(0, cut), piece.substring(cut), score, left, right));
                }
            }
        }
        found.sort(Comparator.comparingDouble((Merge m) -> -m.score).thenComparingInt(Merge::leftId)
                .thenComparingInt(Merge::rightId));
        ArrayNode merges = NODES.arrayNode();
        for (Merge m : found) {
            merges.addArray().add(m.left).add(m.right);
        }
        int unk = tokenIdOr(file, metadata, vocab, "tokenizer.ggml.unknown_token_id", 0);
        return bpeModel(vocab, merges).put("unk_token", vocab.tokens.get(unk)).put("fuse_unk", true)
                .put("byte_fallback", true);
    }

    /** Spaces become U+2581, and each text run gets one in front (llama.cpp's add_space_prefix). */
    private static ObjectNode spmNormalizer(boolean spacePrefix) {
        ObjectNode replace = NODES.objectNode().put("type", "Replace");
        replace.putObject("pattern").put("String", " ");
        replace.put("content", SPIECE_SPACE);
        if (!spacePrefix) {
            return replace;
        }
        ObjectNode seq = NODES.objectNode().put("type", "Sequence");
        seq.putArray("normalizers").add(NODES.objectNode().put("type", "Prepend").put("prepend", SPIECE_SPACE))
                .add(replace);
        return seq;
    }

    private static ObjectNode spmDecoder(boolean spacePrefix) {
        ObjectNode replace = NODES.objectNode().put("type", "Replace");
        replace.putObject("pattern").put("String", SPIECE_SPACE);
        replace.put("content", " ");
        ObjectNode seq = NODES.objectNode().put("type", "Sequence");
        ArrayNode steps = seq.putArray("decoders");
        steps.add(replace);
        steps.add(NODES.objectNode().put("type", "ByteFallback"));
        steps.add(NODES.objectNode().put("type", "Fuse"));
        if (spacePrefix) {
            steps.add(NODES.objectNode().put("type", "Strip").put("content", " ").put("start", 1).put("stop", 0));
        }
        return seq;
    }

    private static Integer tokenId(Path file, Map<String, Object> metadata, Vocab vocab, String key) {
        if (!(metadata.get(key) instanceof Number n)) {
            return null;
        }
        long id = n.longValue();
        if (id < 0 || id >= vocab.tokens.size()) {
            throw new ModelFormatException(file, null, key + " = " + id + " is outside the vocabulary of "
                    + vocab.tokens.size() + " tokens");
        }
        return (int) id;
    }

    private static int tokenIdOr(Path file, Map<String, Object> metadata, Vocab vocab, String key, int fallback) {
        Integer id = tokenId(file, metadata, vocab, key);
        return id == null ? fallback : id;
    }

    private static boolean bool(Map<String, Object> metadata, String key, boolean fallback) {
        return metadata.get(key) instanceof Boolean b ? b : fallback;
    }

    private static String requiredString(Path file, Map<String, Object> metadata, String key) {
        if (metadata.get(key) instanceof String s) {
            return s;
        }
        throw new ModelFormatException(file, null, "missing or non-string metadata key " + key);
    }

    private static List<?> requiredList(Path file, Map<String, Object> metadata, String key) {
        if (metadata.get(key) instanceof List<?> l) {
            return l;
        }
        throw new ModelFormatException(file, null, "missing or non-array metadata key " + key);
    }
}
