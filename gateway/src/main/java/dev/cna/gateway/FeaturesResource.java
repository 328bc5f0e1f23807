package dev.cna.gateway;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import dev.cna.api.ProblemType;
import jakarta.inject.Inject;
import jakarta.ws.rs.Consumes;
import jakarta.ws.rs.GET;
import jakarta.ws.rs.POST;
import jakarta.ws.rs.Path;
import jakarta.ws.rs.PathParam;
import jakarta.ws.rs.Produces;
import jakarta.ws.rs.core.MediaType;
import jakarta.ws.rs.core.Response;
import org.eclipse.microprofile.openapi.annotations.enums.SecuritySchemeType;
import org.eclipse.microprofile.openapi.annotations.security.SecurityRequirement;
import org.eclipse.microprofile.openapi.annotations.security.SecurityScheme;

/** Features: prompt pairs in (to Kafka), attribution progress out (from attribution-service). */
@Path("/api/features")
@Produces(MediaType.APPLICATION_JSON)
@SecurityScheme(securitySchemeName = "apiKey", type = SecuritySchemeType.HTTP, scheme = "bearer")
@SecurityRequirement(name = "apiKey")
public class FeaturesResource {
    @Inject
    PairsRequestParser parser;

    @Inject
    PairsProducer producer;

    @Inject
    AttributionFeatures attribution;

    /** One event (object) or several (list) for one feature; 202 once Kafka has acknowledged all of them. */
    @POST
    @Path("{name}/pairs")
    @Consumes(MediaType.APPLICATION_JSON)
    @RequiresRole(Role.ADMIN)
    public Response ingest(@PathParam("name") String name, String body) throws JsonProcessingException {
        return Response.accepted(producer.send(name, parser.parse(name, body))).build();
    }

    /** attribution-service's view of the feature: events and prompts applied, circuit version, owning instance. */
    @GET
    @Path("{name}")
    public JsonNode progress(@PathParam("name") String name) {
        PairsRequestParser.checkFeature(name);
        return attribution.find(name)
                .orElseThrow(() -> new ProblemException(ProblemType.NOT_FOUND, "attribution-service has no feature " + name));
    }
}
