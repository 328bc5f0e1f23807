package dev.cna.attribution;

import jakarta.inject.Inject;
import jakarta.ws.rs.GET;
import jakarta.ws.rs.NotFoundException;
import jakarta.ws.rs.Path;
import jakarta.ws.rs.PathParam;
import jakarta.ws.rs.Produces;
import jakarta.ws.rs.core.MediaType;

import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.Map;

/** Admin view of the per-feature state: pairs seen, circuit version, last update, backlog. */
@Path("/features")
@Produces(MediaType.APPLICATION_JSON)
public class FeaturesResource {
    @Inject
    Pipeline pipeline;

    @GET
    public Map<String, Object> all() {
        Map<String, Object> out = new LinkedHashMap<>(pipeline.status());
        out.put("features", pipeline.views().values().stream().sorted(Comparator.comparing(FeatureView::name)).toList());
        return out;
    }

    @GET
    @Path("{name}")
    public FeatureView one(@PathParam("name") String name) {
        FeatureView v = pipeline.views().get(name);
        if (v == null) {
            throw new NotFoundException("no feature " + name);
        }
        return v;
    }
}
