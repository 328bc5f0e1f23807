package dev.cna.attribution;

import org.apache.kafka.common.header.Header;
import org.apache.kafka.common.header.Headers;
import org.apache.kafka.common.header.internals.RecordHeader;
import org.apache.kafka.common.header.internals.RecordHeaders;

import java.util.ArrayList;
import java.util.List;

/**
 * A record of cna.prompt-pairs as it arrived (key, value and headers unchanged, and where it came from): what the
 * pending store keeps until the event is applied, and what the DLQ gets back if it cannot be.
 *
 * @param timestamp the record's timestamp, ms since the epoch
 */
public record RawRecord(byte[] key, byte[] value, List<RawHeader> headers, String topic, int partition, long offset,
                        long timestamp) {
    /** One header; the value may be null. */
    public record RawHeader(String key, byte[] value) {
    }

    static List<RawHeader> headersOf(Headers headers) {
        List<RawHeader> out = new ArrayList<>();
        for (Header h : headers) {
            out.add(new RawHeader(h.key(), h.value()));
        }
        return out;
    }

    Headers kafkaHeaders() {
        RecordHeaders out = new RecordHeaders();
        headers.forEach(h -> out.add(new RecordHeader(h.key(), h.value())));
        return out;
    }

    /** The size Kafka counts for the record, approximately: key, value and headers with 8 bytes of overhead each. */
    long size() {
        return (key == null ? 0 : key.length) + (value == null ? 0 : value.length)
                + headers.stream().mapToLong(h -> h.key().length() + (h.value() == null ? 0 : h.value().length) + 8).sum();
    }
}
