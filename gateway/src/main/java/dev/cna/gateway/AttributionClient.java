package dev.cna.gateway;

import com.fasterxml.jackson.databind.JsonNode;
import jakarta.ws.rs.GET;
import jakarta.ws.rs.Path;
import jakarta.ws.rs.PathParam;
import jakarta.ws.rs.Produces;
import jakarta.ws.rs.core.MediaType;
import org.eclipse.microprofile.rest.client.inject.RegisterRestClient;

/** attribution-service's admin REST (base URL cna.attribution.url); its JSON is passed through as is. */
@RegisterRestClient(configKey = "attribution")
@Path("/features")
@Produces(MediaType.APPLICATION_JSON)
public interface AttributionClient {
    @GET
    @Path("{name}")
    JsonNode feature(@PathParam("name") String name);
}
