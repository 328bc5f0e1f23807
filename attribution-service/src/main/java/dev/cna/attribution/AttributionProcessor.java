package dev.cna.attribution;

import com.fasterxml.jackson.databind.ObjectMapper;
import dev.cna.api.PromptPairEvent;
import dev.cna.core.attribution.ContrastiveAccumulator;
import dev.cna.core.circuit.Circuit;
import dev.cna.core.circuit.CircuitJson;
import io.quarkus.logging.Log;
import org.apache.kafka.streams.KeyValue;
import org.apache.kafka.streams.processor.PunctuationType;
import org.apache.kafka.streams.processor.api.Processor;
import org.apache.kafka.streams.processor.api.ProcessorContext;
import org.apache.kafka.streams.processor.api.Record;
import org.apache.kafka.streams.processor.api.RecordMetadata;
import org.apache.kafka.streams.state.KeyValueIterator;
import org.apache.kafka.streams.state.KeyValueStore;
import org.apache.kafka.streams.state.WindowStore;
import org.apache.kafka.streams.state.WindowStoreIterator;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;

/**
 * One task's share of cna.prompt-pairs (one partition, so every event of a feature): checks each record (a bad one goes
 * to the DLQ), skips an event id seen within the dedup retention, keeps the rest in the {@value #PENDING} store and, once
 * {@code flushEvents} are pending or at the flush punctuation, applies them: one batched prefill ({@link PrefillBatch}),
 * the sums into {@link FeatureStore}, then per changed feature a circuit version (or a tombstone after a reset). Every
 * store write and every record forwarded belong to the transaction of the task's next commit
 * ({@code exactly_once_v2}), so a crash loses or doubles nothing: pending events are in a changelogged store too and
 * are applied by whichever instance owns the partition next.
 */
final class AttributionProcessor implements Processor<byte[], byte[], byte[], byte[]> {
    static final String PENDING = "attribution-pending";
    static final String IDS = "attribution-event-ids";
    private static final ObjectMapper JSON = FeatureStore.JSON;

    private final ModelHolder model;
    private final AttributionSettings settings;
    private final DlqMetrics metrics;
    private EventReader reader;
    private PrefillBatch batch;
    private ProcessorContext<byte[], byte[]> context;
    private FeatureStore features;
    private KeyValueStore<Long, byte[]> pending;
    private WindowStore<String, Long> ids;
    private int pendingCount;

    AttributionProcessor(ModelHolder model, AttributionSettings settings, DlqMetrics metrics) {
        this.model = model;
        this.settings = settings;
        this.metrics = metrics;
    }

    @Override
    public void init(ProcessorContext<byte[], byte[]> context) {
        this.context = context;
        model.load();
        reader = new EventReader(model);
        batch = new PrefillBatch(model, reader.parser(), settings.faultPrompt(), metrics::prompt);
        features = new FeatureStore(context.getStateStore(FeatureStore.META), context.getStateStore(FeatureStore.SUMS),
                model.model().config().layers(), model.model().config().intermediateSize());
        pending = context.getStateStore(PENDING);
        ids = context.getStateStore(IDS);
        pendingCount = count(pending);
        context.schedule(settings.flushInterval(), PunctuationType.WALL_CLOCK_TIME, now -> {
            if (pendingCount > 0) {
                flush();
            }
        });
    }

    /**
     * Exact entries of the pending store (at most a flush's worth), counted at init, which Kafka Streams runs after
     * the task's stores are restored. Not approximateNumEntries: RocksDB's estimate read 0 for events restored from a
     * killed instance's changelog, and they then waited for a new event to come (ScaleOutIT, seen once in CI).
     */
    private static int count(KeyValueStore<Long, byte[]> store) {
        int n = 0;
        try (KeyValueIterator<Long, byte[]> it = store.all()) {
            for (; it.hasNext(); it.next()) {
                n++;
            }
        }
        return n;
    }

    @Override
    public void process(Record<byte[], byte[]> record) {
        RecordMetadata from = context.recordMetadata().orElseThrow();
        RawRecord raw = new RawRecord(record.key(), record.value(), RawRecord.headersOf(record.headers()), from.topic(),
                from.partition(), from.offset(), record.timestamp());
        PromptPairEvent e;
        try {
            e = reader.read(raw);
        } catch (BadEventException bad) {
            deadLetter(raw, bad);
            return;
        }
        String id = e.feature() + "/" + e.id();
        if (seen(id, record.timestamp())) {
            metrics.duplicate();
            return;
        }
        ids.put(id, from.offset(), record.timestamp()); // a retry arriving while this one is pending is a duplicate too
        try {
            pending.put(from.offset(), JSON.writeValueAsBytes(raw));
        } catch (IOException io) {
            throw new UncheckedIOException(io);
        }
        if (++pendingCount >= settings.flushEvents()) {
            flush();
        }
    }

    private boolean seen(String id, long timestamp) {
        long retention = settings.dedupRetention().toMillis();
        try (WindowStoreIterator<Long> it = ids.fetch(id, Math.max(0, timestamp - retention), timestamp + retention)) {
            return it.hasNext();
        }
    }

    /** Applies every pending event in offset order, publishes what changed, empties the pending store. */
    private void flush() {
        List<Long> offsets = new ArrayList<>();
        Map<String, FeatureMeta> metas = new HashMap<>();
        Map<String, Optional<ContrastiveAccumulator>> sums = new HashMap<>();
        Set<String> changed = new LinkedHashSet<>();
        List<PrefillBatch.Pending> run = new ArrayList<>();
        String now = Instant.now().toString();
        PrefillBatch.Sink sink = new PrefillBatch.Sink() {
            @Override
            public void applied(RawRecord raw, PromptPairEvent e) {
                metas.put(e.feature(), meta(metas, e.feature()).applied(e, source(raw), now));
                changed.add(e.feature());
                metrics.applied(1);
            }

            @Override
            public void sums(String feature, ContrastiveAccumulator add) {
                Optional<ContrastiveAccumulator> have = sums.computeIfAbsent(feature, f -> {
                    FeatureMeta stored = features.meta(f); // the sums in the store go with the counts stored beside them
                    return Optional.ofNullable(stored == null ? null : features.sums(stored));
                });
                if (have.isPresent()) {
                    have.get().merge(add);
                } else {
                    sums.put(feature, Optional.of(add));
                }
            }

            @Override
            public void failed(RawRecord raw, BadEventException why) {
                PromptPairEvent e = parsed(raw);
                ids.put(e.feature() + "/" + e.id(), null, raw.timestamp()); // not applied: a retry may still apply it
                deadLetter(raw, why);
            }
        };
        try (KeyValueIterator<Long, byte[]> it = pending.all()) {
            while (it.hasNext()) {
                KeyValue<Long, byte[]> kv = it.next();
                offsets.add(kv.key);
                RawRecord raw = readRaw(kv.value);
                PromptPairEvent e = parsed(raw);
                if (e.type() == PromptPairEvent.Type.RESET) {
                    batch.run(run, f -> meta(metas, f), sink); // the pairs before it first
                    run.clear();
                    metas.put(e.feature(), meta(metas, e.feature()).reset(source(raw), now));
                    sums.put(e.feature(), Optional.empty());
                    changed.add(e.feature());
                    metrics.applied(1);
                } else {
                    run.add(new PrefillBatch.Pending(raw, e));
                }
            }
        }
        batch.run(run, f -> meta(metas, f), sink);
        for (String f : changed) {
            FeatureMeta m = metas.get(f);
            ContrastiveAccumulator acc = sums.containsKey(f) ? sums.get(f).orElse(null) : features.sums(m);
            if (sums.containsKey(f)) {
                features.putSums(f, acc);
            }
            features.putMeta(publish(m, acc));
        }
        offsets.forEach(pending::delete);
        pendingCount = 0;
    }

    private FeatureMeta meta(Map<String, FeatureMeta> metas, String feature) {
        return metas.computeIfAbsent(feature, f -> {
            FeatureMeta stored = features.meta(f);
            return stored != null ? stored : FeatureMeta.fresh(f, context.taskId().partition());
        });
    }

    /**
     * The feature's circuit, as a new version when its selection changed, or its tombstone when it has no sums left
     * (a reset) and a circuit is live; returns the state after it. A selection that fails, or a circuit beyond a Kafka
     * record, is not published (logged, counted): the events stay applied and the next event computes it again.
     */
    private FeatureMeta publish(FeatureMeta m, ContrastiveAccumulator acc) {
        if (acc == null || m.positive() == 0 || m.negative() == 0) {
            if (!m.hasCircuit()) {
                return m;
            }
            forward(m.name(), null);
            metrics.tombstone();
            Log.infof("circuit %s deleted (reset)", m.name());
            return m.deleted();
        }
        Circuit circuit;
        byte[] json;
        try {
            circuit = model.attribution().circuit(m.name(), m.version() + 1, acc, m.options(), m.source());
            if (m.sameSelection(circuit)) {
                return m;
            }
            json = CircuitJson.write(circuit).getBytes(StandardCharsets.UTF_8);
            if (json.length + m.name().length() > DeadLetters.MAX_RECORD_BYTES) {
                throw new IllegalStateException("the circuit is " + json.length + " bytes of JSON, more than a Kafka record holds ("
                        + DeadLetters.MAX_RECORD_BYTES + "); a smaller topK fits");
            }
        } catch (RuntimeException | OutOfMemoryError | StackOverflowError e) {
            metrics.selectionFailed();
            Log.errorf(e, "circuit %s: not published, the selection failed (topK %d, excludeLayers %s): %s", m.name(), m.topK(),
                    m.excludeLayers(), e.getMessage());
            return m;
        }
        forward(m.name(), json);
        metrics.published();
        Log.infof("circuit %s v%d (%d+%d prompts)", m.name(), circuit.version(), m.positive(), m.negative());
        return m.published(circuit);
    }

    private void forward(String feature, byte[] value) {
        context.forward(new Record<>(feature.getBytes(StandardCharsets.UTF_8), value, context.currentSystemTimeMs()),
                AttributionTopology.CIRCUITS_SINK);
    }

    private void deadLetter(RawRecord raw, BadEventException bad) {
        Log.debugf("dead-letter %s-%d@%d: %s %s", raw.topic(), raw.partition(), raw.offset(), bad.errorClass().header(), bad.getMessage());
        context.forward(DeadLetters.of(raw, bad, context.currentSystemTimeMs()), AttributionTopology.DLQ_SINK);
        metrics.dlq(bad.errorClass());
    }

    /** A pending record: read and accepted before, so it parses. */
    private PromptPairEvent parsed(RawRecord raw) {
        try {
            return reader.parse(raw);
        } catch (BadEventException e) {
            throw new IllegalStateException("a pending record no longer parses: " + e.getMessage(), e);
        }
    }

    private static RawRecord readRaw(byte[] json) {
        try {
            return JSON.readValue(json, RawRecord.class);
        } catch (IOException e) {
            throw new UncheckedIOException("unreadable pending record", e);
        }
    }

    private static Circuit.Source source(RawRecord raw) {
        return new Circuit.Source(raw.topic(), raw.partition(), raw.offset());
    }
}
