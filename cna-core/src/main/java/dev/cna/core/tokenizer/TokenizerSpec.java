package dev.cna.core.tokenizer;

import java.util.List;

/**
 * What a tokenizer needs, from whichever file format: a Hugging Face tokenizer.json document, the Jinja
 * chat template, and the special tokens around a prompt and a reply.
 *
 * @param tokenizerJson the tokenizer.json content (built from GGUF metadata for GGUF files)
 * @param chatTemplate  the model's own Jinja chat template, or null when it has none
 * @param bosToken      beginning-of-sequence token text, or null
 * @param addBos        whether a prompt starts with the BOS token
 * @param stopTokens    token texts that end a reply (end of sequence, end of turn); the first is EOS
 */
public record TokenizerSpec(String tokenizerJson, String chatTemplate, String bosToken, boolean addBos,
                            List<String> stopTokens) {}
