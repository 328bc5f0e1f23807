package dev.cna.gateway;

import io.restassured.response.Response;

import static org.hamcrest.Matchers.containsString;
import static org.hamcrest.Matchers.endsWith;
import static org.hamcrest.Matchers.equalTo;
import static org.hamcrest.Matchers.startsWith;

/**
 * The assertion every error answer must pass: an RFC 9457 body with the status, the type ({@code urn:cna:problem:SLUG},
 * written out here so that the wire value is pinned, not cna-api's constant) and the path.
 */
final class Problems {
    private Problems() {}

    static void assertProblem(Response r, int status, String typeSlug, String path, String detailPart) {
        r.then()
                .statusCode(status)
                .contentType(startsWith("application/problem+json"))
                .body("status", equalTo(status))
                .body("type", equalTo("urn:cna:problem:" + typeSlug))
                .body("title", org.hamcrest.Matchers.not(org.hamcrest.Matchers.emptyOrNullString()))
                .body("instance", endsWith(path))
                .body("detail", containsString(detailPart));
    }
}
