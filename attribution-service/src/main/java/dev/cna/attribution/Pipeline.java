package dev.cna.attribution;

import dev.cna.api.PromptPairEvent;
import dev.cna.core.attribution.ActivationCollector;
import dev.cna.core.attribution.ContrastiveAccumulator;
import dev.cna.core.attribution.ContrastiveAttribution;
import dev.cna.core.attribution.SelectionOptions;
import dev.cna.core.circuit.Circuit;
import dev.cna.core.circuit.CircuitJson;
import dev.cna.core.runtime.MemoryBudget;
import io.quarkus.logging.Log;
import io.quarkus.runtime.ShutdownEvent;
import io.quarkus.runtime.StartupEvent;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.enterprise.event.Observes;
import jakarta.inject.Inject;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.ConsumerRecords;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.clients.producer.RecordMetadata;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.errors.WakeupException;
import org.apache.kafka.common.header.Header;
import org.apache.kafka.common.header.internals.RecordHeader;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.eclipse.microprofile.config.inject.ConfigProperty;

import java.nio.ByteBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Future;
import java.util.function.Consumer;

/**
 * The one thread that owns the model and the per-feature state: replays cna.prompt-pairs from the beginning at
 * start-up (the topic is the source of truth), publishes nothing until it has caught up with the end offsets
 * it saw at start-up, then follows the topic. Per poll batch: validate, dead-letter, deduplicate by event id,
 * one batched prefill for all new prompts, then one circuit per changed feature, published only when its
 * selection changed.
 */
@ApplicationScoped
public class Pipeline {
    static final String H_ERROR = "cna-error";
    static final String H_DETAIL = "cna-error-detail";
    static final String H_TOPIC = "cna-original-topic";
    static final String H_PARTITION = "cna-original-partition";
    static final String H_OFFSET = "cna-original-offset";
    static final String H_VALUE_DROPPED = "cna-value-dropped"; // the original value's size, when it is left out

    @ConfigProperty(name = "kafka.bootstrap.servers")
    String bootstrap;
    @ConfigProperty(name = "cna.attribution.create-topics", defaultValue = "true")
    boolean createTopics;
    @ConfigProperty(name = "cna.attribution.partitions", defaultValue = "1")
    int partitions;
    /** Test-only fault injection: a prompt equal to this fails while its batch runs (unset in production). */
    @ConfigProperty(name = "cna.attribution.fault.prompt")
    Optional<String> faultPrompt = Optional.empty();

    /** Most features whose temporary sums one batched prefill holds (about 1.5 MB each on the default model). */
    static final int GROUP_FEATURES = 16;
    /** Largest record the pipeline sends (Kafka's default limit is 1 MiB per record, headers and overhead included). */
    static final int MAX_RECORD_BYTES = 1_000_000;

    @Inject
    ModelHolder model;
    @Inject
    DlqMetrics metrics;

    private final Map<String, FeatureState> features = new HashMap<>();
    private final Map<String, FeatureView> views = new ConcurrentHashMap<>();
    private final Set<String> deadLettered = new HashSet<>(); // "partition:offset" already in the DLQ at start-up
    private final List<Future<RecordMetadata>> inFlight = new ArrayList<>();
    private volatile boolean running = true;
    private volatile boolean caughtUp;
    private volatile Throwable failure;
    private volatile Map<Integer, long[]> progress = Map.of(); // partition -> {position, end}
    private volatile long startedRebuildAt;
    private volatile long recordsAtStart;
    private Map<TopicPartition, Long> startEnd = Map.of();
    private Thread thread;
    private KafkaConsumer<byte[], byte[]> consumer;
    private KafkaProducer<byte[], byte[]> producer;
    private EventParser parser;
    private boolean[] allLayers;

    void onStart(@Observes StartupEvent event) {
        start();
    }

    void onStop(@Observes ShutdownEvent event) throws InterruptedException {
        stop();
    }

    void start() {
        Thread t = new Thread(this::run, "cna-attribution");
        t.setDaemon(true);
        t.start();
        thread = t;
    }

    void stop() throws InterruptedException {
        running = false;
        KafkaConsumer<byte[], byte[]> c = consumer;
        if (c != null) {
            c.wakeup();
        }
        if (thread != null) {
            thread.join(15_000);
        }
    }

    public boolean caughtUp() {
        return caughtUp;
    }

    public Throwable failure() {
        return failure;
    }

    public boolean alive() {
        return thread != null && thread.isAlive() && failure == null;
    }

    /**
     * Liveness: false once the pipeline thread has ended while it should run, whatever ended it (a failure, or an
     * error it could not even record); true before it starts and while it is being stopped.
     */
    public boolean live() {
        Thread t = thread;
        return failure == null && (t == null || t.isAlive() || !running);
    }

    public Map<String, FeatureView> views() {
        return views;
    }

    /** partition -> {position, end offset}. */
    public Map<Integer, long[]> progress() {
        return progress;
    }

    public long backlog() {
        return progress.values().stream().mapToLong(p -> Math.max(0, p[1] - p[0])).sum();
    }

    public long recordsAtStart() {
        return recordsAtStart;
    }

    private void run() {
        try {
            model.load();
            int layers = model.model().config().layers();
            parser = new EventParser(layers, model.model().config().intermediateSize());
            allLayers = new boolean[layers];
            Arrays.fill(allLayers, true);
            if (createTopics) {
                Topics.ensure(bootstrap, partitions);
            }
            producer = new KafkaProducer<>(Map.of(
                    ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap,
                    ProducerConfig.ACKS_CONFIG, "all",
                    ProducerConfig.ENABLE_IDEMPOTENCE_CONFIG, true,
                    ProducerConfig.LINGER_MS_CONFIG, 5,
                    ProducerConfig.KEY_SERIALIZER_CLASS_CONFIG, ByteArraySerializer.class,
                    ProducerConfig.VALUE_SERIALIZER_CLASS_CONFIG, ByteArraySerializer.class));
            readToEnd(Topics.CIRCUITS, this::rememberCircuit);
            readToEnd(Topics.DLQ, this::rememberDeadLetter);
            consumer = newConsumer();
            List<TopicPartition> tps = partitionsOf(consumer, Topics.PAIRS);
            consumer.assign(tps);
            consumer.seekToBeginning(tps);
            startEnd = consumer.endOffsets(tps);
            Map<TopicPartition, Long> begin = consumer.beginningOffsets(tps);
            recordsAtStart = tps.stream().mapToLong(tp -> startEnd.get(tp) - begin.get(tp)).sum();
            startedRebuildAt = System.nanoTime();
            Log.infof("rebuilding state from %d records of %s (%d partitions)", recordsAtStart, Topics.PAIRS, tps.size());
            long lastLog = System.nanoTime();
            while (running) {
                ConsumerRecords<byte[], byte[]> records = consumer.poll(Duration.ofMillis(200));
                if (!records.isEmpty()) {
                    process(records);
                }
                updateProgress(tps);
                if (!caughtUp && tps.stream().allMatch(tp -> consumer.position(tp) >= startEnd.get(tp))) {
                    caughtUp = true;
                    Log.infof("state rebuilt: %d features from %d records in %d ms; publishing from now on", features.size(),
                            recordsAtStart, (System.nanoTime() - startedRebuildAt) / 1_000_000);
                } else if (!caughtUp && System.nanoTime() - lastLog > 5_000_000_000L) {
                    lastLog = System.nanoTime();
                    Log.infof("rebuilding: %d records to go", backlog());
                }
                if (caughtUp) {
                    publishChanged();
                }
                completeSends();
                refreshViews();
            }
        } catch (WakeupException e) {
            if (running) {
                failure = e;
            }
        } catch (Throwable t) {
            failure = t;
            Log.error("attribution pipeline stopped", t);
        } finally {
            if (consumer != null) {
                consumer.close(Duration.ofSeconds(2));
            }
            if (producer != null) {
                producer.close(Duration.ofSeconds(5));
            }
        }
    }

    private KafkaConsumer<byte[], byte[]> newConsumer() {
        // No consumer group: this instance reads every partition from the beginning at each start.
        return new KafkaConsumer<>(Map.of(
                ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap,
                ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, false,
                ConsumerConfig.ISOLATION_LEVEL_CONFIG, "read_committed",
                ConsumerConfig.MAX_POLL_RECORDS_CONFIG, 500,
                ConsumerConfig.KEY_DESERIALIZER_CLASS_CONFIG, ByteArrayDeserializer.class,
                ConsumerConfig.VALUE_DESERIALIZER_CLASS_CONFIG, ByteArrayDeserializer.class));
    }

    private static List<TopicPartition> partitionsOf(KafkaConsumer<?, ?> c, String topic) {
        var infos = c.partitionsFor(topic, Duration.ofSeconds(30));
        if (infos == null || infos.isEmpty()) {
            throw new IllegalStateException("topic " + topic + " does not exist (create it, or let the service create it)");
        }
        return infos.stream().map(p -> new TopicPartition(topic, p.partition())).toList();
    }

    /** Reads a whole topic once (start-up): the last circuits, the offsets already dead-lettered. */
    private void readToEnd(String topic, Consumer<ConsumerRecord<byte[], byte[]>> sink) {
        try (KafkaConsumer<byte[], byte[]> c = newConsumer()) {
            var infos = c.partitionsFor(topic, Duration.ofSeconds(30));
            if (infos == null || infos.isEmpty()) {
                return;
            }
            List<TopicPartition> tps = infos.stream().map(p -> new TopicPartition(topic, p.partition())).toList();
            c.assign(tps);
            c.seekToBeginning(tps);
            Map<TopicPartition, Long> end = c.endOffsets(tps);
            while (tps.stream().anyMatch(tp -> c.position(tp) < end.get(tp))) {
                c.poll(Duration.ofMillis(200)).forEach(sink);
            }
        }
    }

    private void rememberCircuit(ConsumerRecord<byte[], byte[]> r) {
        if (r.key() == null) {
            return;
        }
        FeatureState f = feature(new String(r.key(), StandardCharsets.UTF_8), r.partition());
        if (r.value() == null) {
            f.lastCircuit = null;
            return;
        }
        try {
            Circuit c = CircuitJson.read(new String(r.value(), StandardCharsets.UTF_8));
            f.lastCircuit = c;
            f.lastVersion = Math.max(f.lastVersion, c.version());
        } catch (RuntimeException e) {
            Log.warnf("ignoring unreadable circuit at %s-%d@%d: %s", r.topic(), r.partition(), r.offset(), e.getMessage());
        }
    }

    private void rememberDeadLetter(ConsumerRecord<byte[], byte[]> r) {
        Header p = r.headers().lastHeader(H_PARTITION);
        Header o = r.headers().lastHeader(H_OFFSET);
        if (p != null && o != null) {
            deadLettered.add(new String(p.value(), StandardCharsets.UTF_8) + ":" + new String(o.value(), StandardCharsets.UTF_8));
        }
    }

    private FeatureState feature(String name, int partition) {
        FeatureState f = features.computeIfAbsent(name, FeatureState::new);
        f.partition = partition;
        return f;
    }

    /** A new pairs event waiting for the batched prefill, with the record it came from. */
    private record Pending(ConsumerRecord<byte[], byte[]> record, PromptPairEvent event) {}

    /**
     * One poll batch. Every record is either applied, skipped as a duplicate or dead-lettered, in topic order as far as
     * the outcome goes: whatever fails for one event (parsing, tokenizing, its options, the forward pass) sends that
     * event to the DLQ and the loop goes on.
     */
    private void process(ConsumerRecords<byte[], byte[]> records) {
        List<Pending> pending = new ArrayList<>();
        Set<String> pendingIds = new HashSet<>(); // feature + id of the pending events
        for (ConsumerRecord<byte[], byte[]> r : records) {
            PromptPairEvent e;
            try {
                e = parser.parse(decode(r.key(), "key"), decode(r.value(), "value"));
                checkSize(e);
            } catch (BadEventException bad) {
                deadLetter(r, bad);
                continue;
            } catch (RuntimeException | OutOfMemoryError | StackOverflowError failed) {
                deadLetter(r, processingFailed(failed));
                continue;
            }
            String key = e.feature() + '\n' + e.id();
            if (pendingIds.contains(key)) {
                // a second copy in the same poll: judge it once the first is applied (or dead-lettered), as if polled alone
                accumulate(pending);
                pendingIds.clear();
            }
            FeatureState known = features.get(e.feature());
            if (known != null && known.seenIds.contains(e.id())) {
                metrics.duplicate();
                continue;
            }
            if (e.type() == PromptPairEvent.Type.RESET) {
                accumulate(pending); // earlier pairs of this batch come first
                pendingIds.clear();
                FeatureState f = applied(r, e);
                f.sums = null;
                if (caughtUp && f.lastCircuit != null) {
                    tombstone(f);
                }
            } else {
                pending.add(new Pending(r, e));
                pendingIds.add(key);
            }
        }
        accumulate(pending);
    }

    /**
     * One batched prefill for the prompts of many pending events (per chat-template flag), in groups of at most
     * {@link #GROUP_FEATURES} features. Each group's activations go to temporary sums that are added to the features'
     * only once the whole group has run, so a failure leaves the state untouched; then each event of the failed group
     * runs alone, in order: the one that fails is dead-lettered, the others are applied exactly once. An event whose
     * options, combined with its feature's, are invalid ends a group: it is judged on the state the events before it
     * leave, as if each event were applied alone in topic order.
     */
    private void accumulate(List<Pending> pending) {
        int from = 0;
        while (from < pending.size()) {
            Set<String> names = new HashSet<>();
            Map<String, FeatureState> projected = new HashMap<>(); // each feature's options as the group's events set them
            int to = from;
            boolean invalidNext = false;
            while (to < pending.size() && (names.size() < GROUP_FEATURES || names.contains(pending.get(to).event().feature()))) {
                PromptPairEvent e = pending.get(to).event();
                FeatureState f = projected.computeIfAbsent(e.feature(), this::optionsOf);
                try {
                    checkOptions(f, e);
                } catch (BadEventException bad) {
                    invalidNext = true;
                    break;
                }
                setOptions(f, e);
                names.add(e.feature());
                to++;
            }
            List<Pending> group = pending.subList(from, to);
            if (group.size() == 1 || (group.size() > 1 && !runTogether(group))) {
                group.forEach(this::runAlone);
            }
            if (invalidNext) {
                runAlone(pending.get(to)); // checked against the state the group left: dead-lettered with the reason
                to++;
            }
            from = to;
        }
        pending.clear();
    }

    /** A copy of a feature's options (the defaults for a new feature). */
    private FeatureState optionsOf(String name) {
        FeatureState copy = new FeatureState(name);
        FeatureState known = features.get(name);
        if (known != null) {
            copy.topK = known.topK;
            copy.excludeLayers = known.excludeLayers;
        }
        return copy;
    }

    /** Runs a group in one batched prefill; false (state untouched) when it failed. */
    private boolean runTogether(List<Pending> group) {
        Map<String, ContrastiveAccumulator> sums = new HashMap<>();
        try {
            collect(group, sums);
        } catch (RuntimeException | OutOfMemoryError | StackOverflowError failed) {
            Log.warnf("a batch of %d events failed (%s); running each alone", group.size(), failed.toString());
            return false;
        }
        group.forEach(p -> applied(p.record(), p.event()));
        sums.forEach(this::addSums);
        return true;
    }

    /** Checks and runs one event alone: applied, or dead-lettered with the reason. */
    private void runAlone(Pending p) {
        FeatureState known = features.get(p.event().feature());
        Map<String, ContrastiveAccumulator> sums = new HashMap<>();
        try {
            checkOptions(known == null ? new FeatureState(p.event().feature()) : known, p.event());
            collect(List.of(p), sums);
        } catch (BadEventException bad) {
            deadLetter(p.record(), bad);
            return;
        } catch (RuntimeException | OutOfMemoryError | StackOverflowError failed) {
            deadLetter(p.record(), processingFailed(failed));
            return;
        }
        applied(p.record(), p.event());
        sums.forEach(this::addSums);
    }

    /** The prompts' activations into one temporary accumulator per feature (every layer: exclusion is a selection option). */
    private void collect(List<Pending> group, Map<String, ContrastiveAccumulator> sums) {
        ActivationCollector collector = model.collector();
        ContrastiveAttribution attribution = model.attribution();
        for (boolean chat : new boolean[] {true, false}) {
            List<String> pos = new ArrayList<>();
            List<ContrastiveAccumulator> posOwner = new ArrayList<>();
            List<String> neg = new ArrayList<>();
            List<ContrastiveAccumulator> negOwner = new ArrayList<>();
            for (Pending p : group) {
                if (p.event().chatTemplate() == chat) {
                    ContrastiveAccumulator into = sums.computeIfAbsent(p.event().feature(),
                            name -> attribution.newAccumulator(new SelectionOptions(1, Set.of(), false)));
                    p.event().positive().forEach(s -> { pos.add(s); posOwner.add(into); });
                    p.event().negative().forEach(s -> { neg.add(s); negOwner.add(into); });
                }
            }
            if (!pos.isEmpty()) {
                collector.neurons(pos, chat, allLayers, null, (i, a) -> {
                    injectFault(pos.get(i));
                    posOwner.get(i).addPositive(a);
                });
                collector.neurons(neg, chat, allLayers, null, (i, a) -> {
                    injectFault(neg.get(i));
                    negOwner.get(i).addNegative(a);
                });
            }
        }
    }

    /** Test-only (cna.attribution.fault.prompt): a prompt equal to the setting fails in the middle of its batch. */
    private void injectFault(String prompt) {
        if (faultPrompt.isPresent() && faultPrompt.get().equals(prompt)) {
            throw new IllegalStateException("injected fault: the prompt equals cna.attribution.fault.prompt (test-only setting)");
        }
    }

    private void addSums(String feature, ContrastiveAccumulator sums) {
        FeatureState f = features.get(feature);
        if (f.sums == null) {
            f.sums = sums;
        } else {
            f.sums.merge(sums);
        }
    }

    /** The bookkeeping of an applied event (its sums are added by the caller); returns its feature. */
    private FeatureState applied(ConsumerRecord<byte[], byte[]> r, PromptPairEvent e) {
        FeatureState f = feature(e.feature(), r.partition());
        f.seenIds.add(e.id());
        f.events++;
        f.lastSource = new Circuit.Source(r.topic(), r.partition(), r.offset());
        f.lastUpdate = Instant.now().toString();
        setOptions(f, e);
        f.dirty = true;
        metrics.applied(1);
        return f;
    }

    private static void setOptions(FeatureState f, PromptPairEvent e) {
        if (e.topK() != null) {
            f.topK = e.topK();
        }
        if (e.excludeLayers() != null) {
            f.excludeLayers = e.excludeLayers();
        }
    }

    /** The event's options combined with the feature's current ones (the last event that sets one wins). */
    private void checkOptions(FeatureState f, PromptPairEvent e) throws BadEventException {
        if (e.topK() != null || e.excludeLayers() != null) {
            parser.checkOptions(e.topK() != null ? e.topK() : f.topK, e.excludeLayers() != null ? e.excludeLayers() : f.excludeLayers);
        }
    }

    private static BadEventException processingFailed(Throwable t) {
        Log.warnf(t, "an event failed");
        return new BadEventException(ErrorClass.PROCESSING_FAILED, t.getMessage() == null ? t.toString() : t.getMessage());
    }

    /** Every prompt fits the model's context (else too-long) and, with its KV cache alone, the memory budget (too-large). */
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

    private void deadLetter(ConsumerRecord<byte[], byte[]> r, BadEventException bad) {
        boolean replayed = r.offset() < startEnd.getOrDefault(new TopicPartition(r.topic(), r.partition()), 0L);
        if (replayed && deadLettered.contains(r.partition() + ":" + r.offset())) {
            return; // an earlier run dead-lettered it already
        }
        Log.debugf("dead-letter %s-%d@%d: %s %s", r.topic(), r.partition(), r.offset(), bad.errorClass().header(), bad.getMessage());
        List<Header> headers = new ArrayList<>();
        r.headers().forEach(headers::add);
        headers.add(header(H_ERROR, bad.errorClass().header()));
        headers.add(header(H_DETAIL, bad.getMessage()));
        headers.add(header(H_TOPIC, r.topic()));
        headers.add(header(H_PARTITION, Integer.toString(r.partition())));
        headers.add(header(H_OFFSET, Long.toString(r.offset())));
        byte[] value = r.value();
        long size = (r.key() == null ? 0 : r.key().length) + (value == null ? 0 : value.length)
                + headers.stream().mapToLong(h -> h.key().length() + (h.value() == null ? 0 : h.value().length) + 8).sum();
        if (size > MAX_RECORD_BYTES) {
            // the original value plus these headers would not fit a record: keep the headers, say so
            headers.add(header(H_VALUE_DROPPED, Integer.toString(value.length)));
            value = null;
        }
        inFlight.add(producer.send(new ProducerRecord<>(Topics.DLQ, null, r.key(), value, headers)));
        metrics.dlq(bad.errorClass());
    }

    private static Header header(String name, String value) {
        return new RecordHeader(name, value.getBytes(StandardCharsets.UTF_8));
    }

    /** After each poll batch (once caught up): a new version for each changed feature whose selection changed. */
    private void publishChanged() {
        for (FeatureState f : features.values()) {
            if (!f.dirty) {
                continue;
            }
            f.dirty = false;
            if (f.sums == null || f.sums.positiveCount() == 0 || f.sums.negativeCount() == 0) {
                if (f.lastCircuit != null) {
                    tombstone(f); // a reset that happened while rebuilding
                }
                continue;
            }
            Circuit circuit;
            byte[] json;
            try {
                circuit = model.attribution().circuit(f.name, f.lastVersion + 1, f.sums, f.options(), f.lastSource);
                if (f.lastCircuit != null && f.lastCircuit.sameSelection(circuit)) {
                    continue;
                }
                json = CircuitJson.write(circuit).getBytes(StandardCharsets.UTF_8);
                if (json.length + f.name.length() > MAX_RECORD_BYTES) {
                    throw new IllegalStateException("the circuit is " + json.length + " bytes of JSON, more than a Kafka record holds ("
                            + MAX_RECORD_BYTES + "); a smaller topK fits");
                }
            } catch (RuntimeException | OutOfMemoryError | StackOverflowError e) {
                // The events stay applied (the sums hold them): the feature's next event computes its circuit again.
                metrics.selectionFailed();
                Log.errorf(e, "circuit %s: not published, the selection failed (topK %d, excludeLayers %s): %s", f.name, f.topK,
                        f.excludeLayers, e.getMessage());
                continue;
            }
            send(Topics.CIRCUITS, f.name, json);
            f.lastVersion = circuit.version();
            f.lastCircuit = circuit;
            metrics.published();
            Log.infof("circuit %s v%d (%d+%d prompts)", f.name, circuit.version(), f.sums.positiveCount(), f.sums.negativeCount());
        }
    }

    private void tombstone(FeatureState f) {
        send(Topics.CIRCUITS, f.name, null);
        f.lastCircuit = null;
        metrics.tombstone();
        Log.infof("circuit %s deleted (reset)", f.name);
    }

    private void send(String topic, String key, byte[] value) {
        inFlight.add(producer.send(new ProducerRecord<>(topic, key.getBytes(StandardCharsets.UTF_8), value)));
    }

    private void completeSends() throws Exception {
        if (inFlight.isEmpty()) {
            return;
        }
        producer.flush();
        for (Future<RecordMetadata> f : inFlight) {
            f.get(); // a failed publish stops the pipeline (readiness and liveness go down) rather than losing a version
        }
        inFlight.clear();
    }

    private void updateProgress(List<TopicPartition> tps) {
        Map<TopicPartition, Long> end = consumer.endOffsets(tps, Duration.ofSeconds(5));
        Map<Integer, long[]> p = new TreeMap<>();
        for (TopicPartition tp : tps) {
            p.put(tp.partition(), new long[] {consumer.position(tp), end.get(tp)});
        }
        progress = p;
    }

    private void refreshViews() {
        Map<Integer, long[]> p = progress;
        for (FeatureState f : features.values()) {
            long[] pe = p.get(f.partition);
            long backlog = pe == null ? 0 : Math.max(0, pe[1] - pe[0]);
            boolean hasSums = f.sums != null;
            FeatureView v = new FeatureView(f.name, f.events, hasSums ? f.sums.positiveCount() : 0,
                    hasSums ? f.sums.negativeCount() : 0, f.lastVersion, f.lastCircuit != null,
                    f.lastCircuit == null ? 0 : f.lastCircuit.neurons().size(), f.topK, List.copyOf(f.excludeLayers),
                    f.lastUpdate, f.partition, backlog, !caughtUp);
            views.put(f.name, v);
        }
    }

    /** A summary for GET /features. */
    public Map<String, Object> status() {
        Map<String, Object> s = new LinkedHashMap<>();
        s.put("ready", model.isLoaded() && caughtUp && alive());
        s.put("rebuilding", !caughtUp);
        s.put("recordsAtStart", recordsAtStart);
        s.put("backlog", backlog());
        Map<String, Object> parts = new TreeMap<>();
        progress.forEach((k, v) -> parts.put(k.toString(), Map.of("position", v[0], "end", v[1])));
        s.put("partitions", parts);
        return s;
    }
}
