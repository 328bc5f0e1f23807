package dev.cna.attribution;

import io.smallrye.common.annotation.Blocking;
import jakarta.inject.Inject;
import jakarta.ws.rs.GET;
import jakarta.ws.rs.NotFoundException;
import jakarta.ws.rs.Path;
import jakarta.ws.rs.PathParam;
import jakarta.ws.rs.Produces;
import jakarta.ws.rs.core.MediaType;
import org.apache.kafka.streams.KafkaStreams;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Admin view of the per-feature state of every instance (interactive queries, {@link FeatureQueries}), with this
 * instance's readiness and restore progress.
 */
@Path("/features")
@Produces(MediaType.APPLICATION_JSON)
@Blocking
public class FeaturesResource {
    @Inject
    FeatureQueries queries;
    @Inject
    RestoreProgress restore;
    @Inject
    KafkaStreams streams;
    @Inject
    ModelHolder model;

    /**
     * {@code ready}, {@code streams} (the Kafka Streams state), {@code restoring} and {@code restore} (changelog
     * partition -> store, records restored, total, while it runs), {@code restoredRecords}, {@code instances} (how many
     * share the partitions), {@code unreachable} (instances that did not answer) and {@code features}.
     */
    @GET
    public Map<String, Object> all() {
        FeatureQueries.Answer a = queries.all();
        Map<String, Object> out = new LinkedHashMap<>();
        out.put("ready", AttributionHealth.ready(streams, model, restore));
        out.put("streams", streams.state().name());
        out.put("restoring", restore.restoring());
        out.put("restore", restore.running());
        out.put("restoredRecords", restore.restoredRecords());
        out.put("instances", streams.metadataForAllStreamsClients().size());
        out.put("unreachable", a.unreachable());
        out.put("features", a.features());
        return out;
    }

    /** This instance's own features only (what other instances ask for). */
    @GET
    @Path("_local")
    public List<FeatureView> local() {
        return queries.local();
    }

    @GET
    @Path("{name}")
    public FeatureView one(@PathParam("name") String name) {
        return queries.all().features().stream().filter(f -> f.name().equals(name)).findFirst()
                .orElseThrow(() -> new NotFoundException("no feature " + name));
    }
}
