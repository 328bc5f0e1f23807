package dev.cna.core.model.hf;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.MissingNode;
import dev.cna.core.model.ModelFormatException;
import dev.cna.core.tokenizer.TokenizerSpec;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * The tokenizer files of a Hugging Face model directory: tokenizer.json (required), tokenizer_config.json
 * (chat template, BOS/EOS, add_bos_token) and generation_config.json (the ids that end a reply).
 */
final class HfTokenizerFiles {
    private HfTokenizerFiles() {}

    static TokenizerSpec read(Path dir) {
        Path tokenizerFile = dir.resolve("tokenizer.json");
        if (!Files.isRegularFile(tokenizerFile)) {
            throw new ModelFormatException(tokenizerFile, null, "missing: a Hugging Face model directory needs tokenizer.json");
        }
        String tokenizerJson;
        try {
            tokenizerJson = Files.readString(tokenizerFile, StandardCharsets.UTF_8);
        } catch (IOException e) {
            throw new ModelFormatException(tokenizerFile, null, "cannot read: " + e.getMessage(), e);
        }

        Path configFile = dir.resolve("tokenizer_config.json");
        JsonNode config = Files.isRegularFile(configFile) ? HfConfig.readJson(configFile) : MissingNode.getInstance();
        String bos = tokenText(config.get("bos_token"));
        String eos = tokenText(config.get("eos_token"));

        Set<String> stops = new LinkedHashSet<>();
        if (eos != null) {
            stops.add(eos);
        }
        Path generationFile = dir.resolve("generation_config.json");
        if (Files.isRegularFile(generationFile)) {
            JsonNode ids = HfConfig.readJson(generationFile).get("eos_token_id");
            if (ids != null && !ids.isNull()) {
                Map<Integer, String> texts = tokenTexts(tokenizerFile);
                for (JsonNode id : ids.isArray() ? ids : List.of(ids)) {
                    String text = texts.get(id.asInt());
                    if (text == null) {
                        throw new ModelFormatException(generationFile, null,
                                "eos_token_id " + id + " is not a token of tokenizer.json");
                    }
                    stops.add(text);
                }
            }
        }
        return new TokenizerSpec(tokenizerJson, chatTemplate(dir, configFile, config), bos,
                config.path("add_bos_token").asBoolean(false), List.copyOf(stops));
    }

    /** A special token given as a string or as an AddedToken object {content: ...}. */
    private static String tokenText(JsonNode node) {
        if (node == null || node.isNull()) {
            return null;
        }
        return node.isObject() ? node.path("content").asText(null) : node.asText();
    }

    /** The template string, the "default" one of a list of named templates, or chat_template.jinja beside it. */
    private static String chatTemplate(Path dir, Path configFile, JsonNode config) {
        JsonNode template = config.get("chat_template");
        if (template != null && template.isTextual()) {
            return template.asText();
        }
        if (template != null && template.isArray()) {
            for (JsonNode named : template) {
                if (named.path("name").asText().equals("default")) {
                    return named.path("template").asText();
                }
            }
            throw new ModelFormatException(configFile, null, "chat_template is a list without a template named \"default\"");
        }
        Path jinja = dir.resolve("chat_template.jinja");
        if (Files.isRegularFile(jinja)) {
            try {
                return Files.readString(jinja, StandardCharsets.UTF_8);
            } catch (IOException e) {
                throw new ModelFormatException(jinja, null, "cannot read: " + e.getMessage(), e);
            }
        }
        return null;
    }

    /** Token id to text, from added_tokens and the model vocabulary (a BPE map or a Unigram list). */
    private static Map<Integer, String> tokenTexts(Path tokenizerFile) {
        JsonNode root = HfConfig.readJson(tokenizerFile);
        Map<Integer, String> texts = new HashMap<>();
        JsonNode vocab = root.path("model").path("vocab");
        if (vocab.isObject()) {
            for (Map.Entry<String, JsonNode> e : vocab.properties()) {
                texts.put(e.getValue().asInt(), e.getKey());
            }
        } else if (vocab.isArray()) {
            for (int i = 0; i < vocab.size(); i++) {
                texts.put(i, vocab.get(i).path(0).asText());
            }
        }
        for (JsonNode added : root.path("added_tokens")) {
            texts.put(added.path("id").asInt(), added.path("content").asText());
        }
        return texts;
    }
}
