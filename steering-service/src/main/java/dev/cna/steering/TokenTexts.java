package dev.cna.steering;

import dev.cna.api.StreamEvent;
import dev.cna.core.generate.TokenLogprobs;
import dev.cna.core.tokenizer.Tokenizer;

import java.util.List;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Token ids as cna-api's {@link StreamEvent.Logprob}s: each id's text alone (decoded once, then cached) and its UTF-8
 * bytes. A token that holds part of a multi-byte character decodes to U+FFFD, whose bytes are then reported.
 */
final class TokenTexts {
    private final Tokenizer tokenizer;
    private final ConcurrentHashMap<Integer, String> texts = new ConcurrentHashMap<>();

    TokenTexts(Tokenizer tokenizer) {
        this.tokenizer = tokenizer;
    }

    /** The text of one token alone. */
    String text(int id) {
        return texts.computeIfAbsent(id, i -> tokenizer.decode(new int[] {i}));
    }

    StreamEvent.Logprob logprob(int id, double logprob) {
        String text = text(id);
        return new StreamEvent.Logprob(id, text, StreamEvent.Logprob.utf8(text), logprob);
    }

    /** The alternatives of a position, most likely first. */
    List<StreamEvent.Logprob> top(TokenLogprobs lp) {
        return lp.top().stream().map(a -> logprob(a.token(), a.logprob())).toList();
    }
}
