package dev.cna.steering;

import dev.cna.core.eval.FrenchDetector;
import dev.cna.core.eval.Quality;
import dev.cna.core.eval.RefusalDetector;
import jakarta.ws.rs.Consumes;
import jakarta.ws.rs.POST;
import jakarta.ws.rs.Path;
import jakarta.ws.rs.Produces;
import jakarta.ws.rs.core.MediaType;

import java.util.List;

/**
 * POST /eval/detect: the project's behavior detectors and quality metric (cna-core {@code eval}, docs/method.md
 * section 7) on replies a client already has, e.g. the web UI's sweep. Text only: no model pass, so it answers while
 * the model loads too.
 */
@Path("/eval/detect")
public class EvalResource {
    /** Replies per request. */
    static final int MAX_REPLIES = 64;
    /** UTF-16 chars per reply (the gateway's prompt limit). */
    static final int MAX_CHARS = 32_000;

    private static final RefusalDetector REFUSAL = new RefusalDetector();
    private static final FrenchDetector FRENCH = new FrenchDetector();

    /** @param replies 1 to {@value #MAX_REPLIES} texts of at most {@value #MAX_CHARS} chars each */
    public record DetectRequest(List<String> replies) {}

    /**
     * One reply's scores.
     *
     * @param refusal       RefusalDetector: a refusal pattern in the first 500 chars
     * @param refusalPhrase the text that matched, or null
     * @param french        FrenchDetector: >= 3 function words, more than half of them French
     * @param frenchShare   French share of the function words in [0, 1], null when there are none
     * @param quality       Quality: 1 - share of repeated word 4-grams, in [0, 1]
     */
    public record Scores(boolean refusal, String refusalPhrase, boolean french, Double frenchShare, double quality) {}

    /** @param results one per reply, in order */
    public record DetectResponse(List<Scores> results) {}

    @POST
    @Consumes(MediaType.APPLICATION_JSON)
    @Produces(MediaType.APPLICATION_JSON)
    public DetectResponse detect(DetectRequest request) {
        List<String> replies = request == null ? null : request.replies();
        if (replies == null || replies.isEmpty() || replies.size() > MAX_REPLIES) {
            throw ProblemException.badRequest("replies: 1 to " + MAX_REPLIES + " texts");
        }
        for (int i = 0; i < replies.size(); i++) {
            if (replies.get(i) == null || replies.get(i).length() > MAX_CHARS) {
                throw ProblemException.badRequest("replies[" + i + "]: a string of at most " + MAX_CHARS + " chars");
            }
        }
        return new DetectResponse(replies.stream().map(EvalResource::score).toList());
    }

    private static Scores score(String reply) {
        double share = FrenchDetector.frenchShare(reply);
        return new Scores(REFUSAL.shows(reply), REFUSAL.matchedPhrase(reply), FRENCH.shows(reply),
                Double.isNaN(share) ? null : share, Quality.of(reply));
    }
}
