package dev.cna.attribution;

import com.fasterxml.jackson.core.type.TypeReference;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.inject.Inject;
import org.apache.kafka.streams.KafkaStreams;
import org.apache.kafka.streams.StoreQueryParameters;
import org.apache.kafka.streams.StreamsMetadata;
import org.apache.kafka.streams.errors.InvalidStateStoreException;
import org.apache.kafka.streams.state.KeyValueIterator;
import org.apache.kafka.streams.state.QueryableStoreTypes;
import org.apache.kafka.streams.state.ReadOnlyKeyValueStore;
import org.eclipse.microprofile.config.inject.ConfigProperty;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;

/**
 * Interactive queries over every instance's feature store: this instance's own features from its local store, the
 * others' from their {@code GET /features/_local}, found by the application.server each instance advertises in the
 * group's metadata.
 */
@ApplicationScoped
public class FeatureQueries {
    private static final Duration REMOTE_TIMEOUT = Duration.ofSeconds(3);

    /** All features found, sorted by name; {@code unreachable} lists the instances (host:port) that did not answer. */
    public record Answer(List<FeatureView> features, List<String> unreachable) {
    }

    @Inject
    KafkaStreams streams;
    @ConfigProperty(name = "quarkus.kafka-streams.application-server")
    String self;
    private final HttpClient http = HttpClient.newBuilder().connectTimeout(REMOTE_TIMEOUT).build();

    /** This instance's features (active tasks only; empty while its stores are not queryable, e.g. restoring). */
    public List<FeatureView> local() {
        List<FeatureView> out = new ArrayList<>();
        try {
            ReadOnlyKeyValueStore<String, byte[]> store = streams.store(
                    StoreQueryParameters.fromNameAndType(FeatureStore.META, QueryableStoreTypes.keyValueStore()));
            try (KeyValueIterator<String, byte[]> it = store.all()) {
                it.forEachRemaining(kv -> out.add(FeatureView.of(FeatureStore.readMeta(kv.value), self)));
            }
        } catch (InvalidStateStoreException notNow) {
            // not running, rebalancing or restoring: nothing to show yet
        }
        return out;
    }

    /** Every instance's features. */
    public Answer all() {
        List<FeatureView> out = new ArrayList<>(local());
        List<String> unreachable = new ArrayList<>();
        for (StreamsMetadata instance : streams.metadataForAllStreamsClients()) {
            String host = instance.hostInfo().host() + ":" + instance.hostInfo().port();
            if (host.equals(self)) {
                continue;
            }
            try {
                HttpResponse<String> r = http.send(HttpRequest.newBuilder(URI.create("http://" + host + "/features/_local"))
                        .timeout(REMOTE_TIMEOUT).build(), HttpResponse.BodyHandlers.ofString());
                if (r.statusCode() != 200) {
                    throw new IllegalStateException("status " + r.statusCode());
                }
                out.addAll(FeatureStore.JSON.readValue(r.body(), new TypeReference<List<FeatureView>>() {}));
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                unreachable.add(host);
            } catch (Exception e) {
                unreachable.add(host);
            }
        }
        out.sort(Comparator.comparing(FeatureView::name));
        return new Answer(out, unreachable);
    }
}
