package dev.cna.attribution;

import org.apache.kafka.common.header.Headers;
import org.apache.kafka.streams.processor.api.Record;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;

/**
 * The DLQ record of an event that cannot be used: its key, value and headers unchanged, plus the reason
 * ({@code cna-error} class, {@code cna-error-detail} text) and where it came from. A value too large to fit next to
 * these headers in one record is left out, and {@code cna-value-dropped} gives its size.
 */
final class DeadLetters {
    static final String H_ERROR = "cna-error";
    static final String H_DETAIL = "cna-error-detail";
    static final String H_TOPIC = "cna-original-topic";
    static final String H_PARTITION = "cna-original-partition";
    static final String H_OFFSET = "cna-original-offset";
    static final String H_VALUE_DROPPED = "cna-value-dropped";
    /** Largest record sent (Kafka's default limit is 1 MiB per record, headers and overhead included). */
    static final int MAX_RECORD_BYTES = 1_000_000;

    private DeadLetters() {}

    static Record<byte[], byte[]> of(RawRecord r, BadEventException bad, long timestamp) {
        List<RawRecord.RawHeader> headers = new ArrayList<>(r.headers());
        headers.add(header(H_ERROR, bad.errorClass().header()));
        headers.add(header(H_DETAIL, bad.getMessage()));
        headers.add(header(H_TOPIC, r.topic()));
        headers.add(header(H_PARTITION, Integer.toString(r.partition())));
        headers.add(header(H_OFFSET, Long.toString(r.offset())));
        RawRecord dead = new RawRecord(r.key(), r.value(), headers, r.topic(), r.partition(), r.offset(), r.timestamp());
        byte[] value = r.value();
        if (dead.size() > MAX_RECORD_BYTES) {
            headers.add(header(H_VALUE_DROPPED, Integer.toString(value.length)));
            value = null;
        }
        Headers out = new RawRecord(r.key(), value, headers, r.topic(), r.partition(), r.offset(), r.timestamp()).kafkaHeaders();
        return new Record<>(r.key(), value, timestamp, out);
    }

    private static RawRecord.RawHeader header(String name, String value) {
        return new RawRecord.RawHeader(name, value.getBytes(StandardCharsets.UTF_8));
    }
}
