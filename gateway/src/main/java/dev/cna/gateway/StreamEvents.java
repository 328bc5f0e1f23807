package dev.cna.gateway;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.cna.api.ProblemType;
import dev.cna.api.StreamEvent;

import java.util.Map;

/** steering-service's SSE events read as cna-api's {@link StreamEvent} records. */
final class StreamEvents {
    private StreamEvents() {}

    /**
     * The event's record, or null for an event name this gateway does not know yet.
     *
     * @throws ProblemException 502 when the data is not the event's JSON
     */
    static StreamEvent read(ObjectMapper json, UpstreamEvent event) {
        Class<? extends StreamEvent> type = StreamEvent.TYPES.get(event.name());
        if (type == null) {
            return null;
        }
        try {
            return json.readValue(event.data(), type);
        } catch (JsonProcessingException e) {
            throw new ProblemException(ProblemType.BAD_GATEWAY, "steering-service sent a " + event.name()
                    + " event that is not its JSON");
        }
    }

    /** An event's circuit versions, empty when it has none. */
    static Map<String, Long> versions(Map<String, Long> circuits) {
        return circuits == null ? Map.of() : circuits;
    }
}
