package dev.cna.attribution;

import dev.cna.api.PromptPairEvent;
import dev.cna.core.attribution.ActivationCollector;
import dev.cna.core.runtime.MemoryBudget;

import java.nio.ByteBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.util.List;

/**
 * A raw record of cna.prompt-pairs to a checked {@link PromptPairEvent}: UTF-8, the schema ({@link EventParser}), and
 * every prompt against the model's context (else {@code too-long}) and, with its KV cache alone, the memory budget
 * (else {@code too-large}). Options combined with the feature's are checked when the event is applied.
 */
final class EventReader {
    private final ModelHolder model;
    private final EventParser parser;

    EventReader(ModelHolder model) {
        this.model = model;
        this.parser = new EventParser(model.model().config().layers(), model.model().config().intermediateSize());
    }

    EventParser parser() {
        return parser;
    }

    /** Decodes and checks the record, sizes included. */
    PromptPairEvent read(RawRecord r) throws BadEventException {
        PromptPairEvent e = parse(r);
        checkSize(e);
        return e;
    }

    /** Decodes and checks the record, sizes excluded (for a record {@link #read} accepted before). */
    PromptPairEvent parse(RawRecord r) throws BadEventException {
        return parser.parse(decode(r.key(), "key"), decode(r.value(), "value"));
    }

    private void checkSize(PromptPairEvent e) throws BadEventException {
        int context = model.model().config().contextLength();
        MemoryBudget budget = model.budget();
        ActivationCollector collector = model.collector();
        for (List<String> side : List.of(e.positive(), e.negative())) {
            for (String prompt : side) {
                int n = collector.promptTokens(prompt, e.chatTemplate()).length;
                String which = side == e.positive() ? "a positive" : "a negative";
                if (n > context) {
                    throw new BadEventException(ErrorClass.TOO_LONG, which + " prompt has " + n + " tokens, the model's context is "
                            + context);
                }
                if (n > budget.maxTokensPerRow()) {
                    throw new BadEventException(ErrorClass.TOO_LARGE, which + " prompt has " + n + " tokens: its KV cache alone ("
                            + MemoryBudget.mib(budget.kvBytes(1, n)) + " MiB) does not fit the memory budget of "
                            + MemoryBudget.mib(budget.bytes()) + " MiB (cna.attribution.memory-budget), which takes prompts of up to "
                            + budget.maxTokensPerRow() + " tokens");
                }
            }
        }
    }

    private static String decode(byte[] bytes, String what) throws BadEventException {
        if (bytes == null) {
            return null;
        }
        try {
            return StandardCharsets.UTF_8.newDecoder().onMalformedInput(CodingErrorAction.REPORT)
                    .onUnmappableCharacter(CodingErrorAction.REPORT).decode(ByteBuffer.wrap(bytes)).toString();
        } catch (CharacterCodingException e) {
            throw new BadEventException(ErrorClass.INVALID_JSON, "the " + what + " is not UTF-8");
        }
    }
}
