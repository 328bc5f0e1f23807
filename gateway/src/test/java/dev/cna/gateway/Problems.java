package dev.cna.gateway;

import io.restassured.response.Response;

import static org.hamcrest.Matchers.containsString;
import static org.hamcrest.Matchers.endsWith;
import static org.hamcrest.Matchers.equalTo;
import static org.hamcrest.Matchers.startsWith;

/**
 * The assertion every error answer must pass: on {@code /v1/*}, OpenAI's error envelope ({@code {"error": {"message",
 * "type", "param", "code"}}}, the code being the problem's slug); elsewhere an RFC 9457 body with the status, the type
 * ({@code urn:cna:problem:SLUG}, written out here so that the wire value is pinned, not cna-api's constant) and the path.
 */
final class Problems {
    private Problems() {}

    static void assertProblem(Response r, int status, String typeSlug, String path, String detailPart) {
        if (path.startsWith("/v1/")) {
            r.then()
                    .statusCode(status)
                    .contentType(startsWith("application/json"))
                    .body("error.code", equalTo(typeSlug))
                    .body("error.type", equalTo(openAiType(status)))
                    .body("error.message", containsString(detailPart));
            return;
        }
        r.then()
                .statusCode(status)
                .contentType(startsWith("application/problem+json"))
                .body("status", equalTo(status))
                .body("type", equalTo("urn:cna:problem:" + typeSlug))
                .body("title", org.hamcrest.Matchers.not(org.hamcrest.Matchers.emptyOrNullString()))
                .body("instance", endsWith(path))
                .body("detail", containsString(detailPart));
    }

    /** OpenAI's error class for a status (its API reference, "Error codes"). */
    static String openAiType(int status) {
        return switch (status) {
            case 401 -> "authentication_error";
            case 403 -> "permission_error";
            case 404 -> "not_found_error";
            case 429 -> "rate_limit_error";
            case 503 -> "service_unavailable_error";
            default -> status >= 500 ? "server_error" : "invalid_request_error";
        };
    }
}
