package dev.cna.gateway;

import com.fasterxml.jackson.databind.JsonNode;
import com.microsoft.playwright.Locator;
import com.microsoft.playwright.Page;
import com.microsoft.playwright.assertions.LocatorAssertions;
import io.quarkus.test.common.WithTestResource;
import io.quarkus.test.common.http.TestHTTPResource;
import io.quarkus.test.junit.QuarkusTest;
import io.restassured.path.json.JsonPath;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.net.URL;
import java.nio.file.Files;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Pattern;

import static com.microsoft.playwright.assertions.PlaywrightAssertions.assertThat;
import static dev.cna.gateway.Platform.ADMIN_KEY;
import static dev.cna.gateway.Platform.CHAT_KEY;
import static dev.cna.gateway.Platform.JSON;
import static io.restassured.RestAssured.given;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The circuit explorer in real headless Chromium (Debian's /usr/bin/chromium) against the real gateway,
 * steering-service, attribution-service and Kafka: a feature made from pasted prompts, its circuit, the compare view,
 * a sweep, the token inspector, a circuit edited and saved, phone width. Screenshots go to target/screenshots/.
 */
@QuarkusTest
@WithTestResource(SteeringStack.class)
class ExplorerBrowserTest {
    private static final LocatorAssertions.HasTextOptions SLOW = new LocatorAssertions.HasTextOptions().setTimeout(180_000);
    /** Attribution of a few pairs on the default model, then the registry: well under this on 2 cores. */
    private static final LocatorAssertions.ContainsTextOptions ATTRIBUTED = new LocatorAssertions.ContainsTextOptions().setTimeout(180_000);
    private static final LocatorAssertions.HasCountOptions GENERATED = new LocatorAssertions.HasCountOptions().setTimeout(120_000);

    private static HeadlessChromium chromium;

    @TestHTTPResource("/")
    URL ui;

    @BeforeAll
    static void launch() {
        chromium = HeadlessChromium.launch();
    }

    @AfterAll
    static void close() {
        if (chromium != null) {
            chromium.close();
        }
    }

    /** The page with a key typed in, on a view (its tab clicked). */
    private Page open(String key, String view, int width, int height) {
        Page page = chromium.newPage(width, height);
        page.navigate(ui.toString());
        page.locator("#key").fill(key);
        page.locator("#key").press("Enter");
        page.locator("#tab-" + view).click();
        assertThat(page.locator("#view-" + view)).isVisible();
        return page;
    }

    /** A circuit that changes the default model's replies when ablated (3003 neurons, as ChatCompletionsTest's). */
    private static String publishStrongCircuit(String name) {
        Platform.publish(name, 1, Platform.circuit(name, 1, 5, 25, 143));
        return name;
    }

    @Test
    void aFeatureFromPastedPromptsShowsItsProgressThenItsCircuitThenIsReset() throws Exception {
        String feature = "ui-french-" + System.nanoTime();
        Page page = open(ADMIN_KEY, "features", 1200, 900);
        assertEquals(ADMIN_KEY, page.evaluate("sessionStorage.getItem('cna.apiKey')"));
        assertEquals(0, ((Number) page.evaluate("localStorage.length")).intValue(), "the key is kept for the session only");

        page.locator("#feature-name").fill(feature);
        page.locator("#feature-positive").fill("""
                Pourquoi le ciel est-il bleu ?
                Écris un petit poème sur la mer.
                Comment puis-je apprendre à jouer de la guitare ?""");
        page.locator("#feature-negative").fill("""
                Why is the sky blue?
                Write a short poem about the sea.
                How can I learn to play the guitar?""");
        page.locator("#feature-send").click();
        assertThat(page.locator("#feature-message")).containsText("Sent 3 + 3 prompts");
        assertThat(page.locator("#feature-progress-text")).containsText("3 positive and 3 negative prompts seen", ATTRIBUTED);
        assertThat(page.locator("#feature-progress-text")).containsText("1 of 1 sent events attributed", ATTRIBUTED);
        HeadlessChromium.screenshot(page, "explorer-features");
        assertThat(page.locator("#feature-progress-text")).containsText("ready", ATTRIBUTED);
        assertThat(page.locator("#feature-progress-text")).containsText("circuit v1");
        assertThat(page.locator(".circuit[data-name='" + feature + "'] .version")).hasText("v1");

        page.locator("#feature-open").click();
        assertThat(page.locator("#view-circuit")).isVisible();
        assertThat(page.locator("#circuit-title")).hasText(feature + " v1");
        assertThat(page.locator("#circuit-top tr")).hasCount(20);
        assertThat(page.locator("#circuit-share")).containsText("200 of");
        assertThat(page.locator("#circuit-history li")).hasCount(1);
        assertThat(page.locator("#circuit-chart rect.bar").first()).isAttached();
        JsonPath served = given().auth().oauth2(CHAT_KEY).get("/api/circuits/" + feature).jsonPath();
        Locator firstRow = page.locator("#circuit-top tr").first();
        assertThat(firstRow.locator("td").nth(1)).hasText(String.valueOf(served.getInt("neurons[0].layer")));
        assertThat(firstRow.locator("td").nth(2)).hasText(String.valueOf(served.getInt("neurons[0].index")));
        HeadlessChromium.screenshot(page, "explorer-circuit");

        var download = page.waitForDownload(() -> page.locator("#circuit-download").click());
        JsonNode downloaded = JSON.readTree(Files.readString(download.path()));
        assertEquals(feature, downloaded.get("name").asText());
        assertEquals(200, downloaded.get("neurons").size());

        // reset: the feature's pairs forgotten, its circuit deleted, and the page says so
        page.onDialog(dialog -> dialog.accept()); // "Reset NAME?"
        page.locator("#tab-features").click();
        page.locator("#feature-reset").click();
        assertThat(page.locator("#feature-progress-text")).containsText(feature + " was reset: no circuit", ATTRIBUTED);
        assertThat(page.locator(".circuit[data-name='" + feature + "']")).hasCount(0);
        given().auth().oauth2(CHAT_KEY).get("/api/circuits/" + feature).then().statusCode(404);
        page.close();
    }

    /** The compare view's two columns: unsteered, and the circuit ablated (x0); a prompt and a reply length. */
    private static void setUpCompare(Page page, String circuit, int maxTokens) {
        page.locator("#compare-prompt").fill("Tell me about Paris.");
        Locator columns = page.locator("#compare-columns .col-row");
        assertThat(columns).hasCount(2);
        columns.nth(0).locator(".col-circuit").selectOption("");
        columns.nth(1).locator(".col-circuit").selectOption(circuit);
        columns.nth(1).locator(".col-multiplier").fill("0");
        page.locator("#compare-max-tokens").fill(Integer.toString(maxTokens));
    }

    @Test
    void compareStreamsASteeredAndAnUnsteeredColumnOfTheSameSeed() throws Exception {
        String circuit = publishStrongCircuit("ui-compare");
        Page page = open(CHAT_KEY, "compare", 1200, 900);
        List<JsonNode> sent = new ArrayList<>();
        page.onRequest(r -> {
            if (r.url().endsWith("/api/generate")) {
                sent.add(read(r.postData()));
            }
        });
        setUpCompare(page, circuit, 128); // long enough to arrive in many reads on a fast machine
        page.evaluate("""
                () => { window.lengths = [[], []];
                        new MutationObserver(() => document.querySelectorAll('#compare-out .column .text')
                          .forEach((t, i) => window.lengths[i]?.push(t.textContent.length)))
                          .observe(document.getElementById('compare-out'), {childList: true, subtree: true, characterData: true}); }""");
        page.locator("#compare-run").click();
        Locator out = page.locator("#compare-out .column");
        assertThat(out).hasCount(2);
        assertThat(page.locator("#compare-out .column.streaming")).hasCount(0, GENERATED);

        assertEquals(2, sent.size());
        assertEquals(sent.get(0).get("seed"), sent.get(1).get("seed"), "one seed for every column");
        assertEquals(0, sent.get(0).path("steering").size());
        assertEquals(circuit, sent.get(1).at("/steering/0/circuit").asText());
        String unsteered = out.nth(0).locator(".text").textContent();
        String steered = out.nth(1).locator(".text").textContent();
        assertTrue(!unsteered.isBlank() && !steered.isBlank(), unsteered + " | " + steered);
        assertNotEquals(unsteered, steered, "ablating 3003 neurons changes the reply");
        assertThat(out.nth(0).locator("h3")).hasText("unsteered");
        assertThat(out.nth(1).locator("h3")).hasText(circuit + " ×0");
        assertThat(out.nth(1).locator(".info")).containsText("under " + circuit + " v1");
        @SuppressWarnings("unchecked")
        List<List<Number>> lengths = (List<List<Number>>) page.evaluate("window.lengths");
        for (List<Number> column : lengths) {
            assertTrue(column.stream().mapToInt(Number::intValue).distinct().count() >= 5, "streamed token by token: " + column);
        }
        HeadlessChromium.screenshot(page, "explorer-compare");

        // phone width: one column of content, nothing wider than the screen
        page.setViewportSize(390, 844);
        assertTrue(((Number) page.evaluate("document.documentElement.scrollWidth")).intValue() <= 390,
                "no sideways scrolling at a phone's width");
        HeadlessChromium.screenshot(page, "explorer-compare-phone");
        page.close();
    }

    @Test
    void aSweepOfThreeMultipliersFillsItsTable() throws Exception {
        String circuit = publishStrongCircuit("ui-sweep");
        Page page = open(CHAT_KEY, "sweep", 1200, 900);
        page.locator("#sweep-prompts").fill("Quelle est la capitale de la France ?");
        page.locator("#sweep-circuit").selectOption(circuit);
        page.locator("#sweep-multipliers").fill("0, 1, 2");
        page.locator("#sweep-max-tokens").fill("24");
        page.locator("#sweep-run").click();
        Locator rows = page.locator("#sweep-rows tr");
        assertThat(rows).hasCount(3);
        assertThat(page.locator("#sweep-run")).hasText("Sweep", SLOW); // back from Stop: generated and scored
        for (int i = 0; i < 3; i++) {
            Locator cells = rows.nth(i).locator("td");
            assertThat(cells.nth(1)).hasText("×" + List.of("0", "1", "2").get(i));
            assertTrue(!cells.nth(2).textContent().isBlank(), "a reply");
            assertThat(cells.nth(3)).hasText(Pattern.compile("^(yes|no)$"));
            assertThat(cells.nth(4)).hasText(Pattern.compile("^(yes|no)( \\d+%)?$"));
            assertThat(cells.nth(5)).hasText(Pattern.compile("^[01]\\.\\d\\d$"));
        }
        assertThat(page.locator("#sweep-message")).isHidden();
        HeadlessChromium.screenshot(page, "explorer-sweep");
        page.close();
    }

    /**
     * Needs steering-service's log-probabilities ({@code logprobs} on POST /generate, {@code logprob} and
     * {@code top_logprobs} on its token events): a steering-service without them refuses the field, and the columns
     * show its 400 instead of tokens.
     */
    @Test
    void theTokenInspectorShowsAlternativesSteeredAgainstUnsteered() throws Exception {
        String circuit = publishStrongCircuit("ui-inspect");
        Page page = open(CHAT_KEY, "compare", 1200, 900);
        setUpCompare(page, circuit, 12);
        page.locator("#compare-logprobs").check();
        page.locator("#compare-run").click();
        assertThat(page.locator("#compare-out .column.streaming")).hasCount(0, GENERATED);
        List<String> refused = page.locator("#compare-out .column.error .text").allTextContents();
        assertTrue(refused.isEmpty(), "steering-service refused the request with logprobs: " + refused);

        Locator token = page.locator("#compare-out .column").nth(1).locator(".tok").first();
        token.focus();
        token.press("Enter"); // keyboard, as a person without a mouse would
        assertThat(page.locator("#inspector")).isVisible();
        assertThat(page.locator("#inspector-title")).hasText("Token 1");
        Locator panels = page.locator("#inspector-cols .inspect-col");
        assertThat(panels).hasCount(2);
        for (int i = 0; i < 2; i++) {
            assertTrue(panels.nth(i).locator(".alts li").count() >= 2, "alternatives with probabilities");
            assertThat(panels.nth(i).locator(".alts li .num").first()).hasText(Pattern.compile("^\\d+\\.\\d%$"));
        }
        assertThat(page.locator("#inspector-note")).containsText("Same context");
        HeadlessChromium.screenshot(page, "explorer-inspector");
        page.close();
    }

    @Test
    void anEditedCircuitIsPublishedAndBecomesSelectable() throws Exception {
        String source = "ui-edit-source";
        String edited = "ui-edited-" + System.nanoTime();
        Platform.publish(source, 1, Platform.circuit(source, 1, 2, 3, 3)); // 6 neurons
        Page page = open(CHAT_KEY, "circuit", 1200, 900);
        page.locator("#circuit-select").selectOption(source);
        assertThat(page.locator("#circuit-title")).hasText(source + " v1");
        page.locator("#circuit-edit").click();
        assertThat(page.locator("#view-edit")).isVisible();
        assertThat(page.locator("#edit-rows tr")).hasCount(6);
        page.locator("#edit-rows .keep").nth(0).uncheck();
        page.locator("#edit-rows .keep").nth(1).uncheck();
        page.locator("#edit-layer").fill("7");
        page.locator("#edit-index").fill("42");
        page.locator("#edit-delta").fill("-9");
        page.locator("#edit-add button").click();
        assertThat(page.locator("#edit-rows tr.added")).hasCount(1);
        page.locator("#edit-name").fill(edited);

        // a chat key may not save: the reason in plain words
        page.locator("#edit-save").click();
        assertThat(page.locator("#edit-message")).containsText("lacks the role admin");
        page.locator("#key").fill(ADMIN_KEY);
        page.locator("#key").press("Enter");
        page.locator("#edit-save").click();
        assertThat(page.locator("#edit-message")).containsText("Saved " + edited + " v1 (5 neurons)");
        HeadlessChromium.screenshot(page, "explorer-edit");

        Locator card = page.locator(".circuit[data-name='" + edited + "']");
        assertThat(card.locator(".version")).hasText("v1");
        assertThat(card.locator(".meta")).containsText("manual, 5 neurons");
        page.locator("#tab-compare").click();
        assertTrue(page.locator("#compare-columns .col-circuit").first().locator("option[value='" + edited + "']").count() == 1,
                "the saved circuit is selectable");
        JsonPath saved = given().auth().oauth2(CHAT_KEY).get("/api/circuits/" + edited).jsonPath();
        assertEquals("manual", saved.getString("method"));
        assertEquals(5, saved.getList("neurons").size());
        assertEquals(-9.0, saved.getDouble("neurons[0].delta"), 1e-9, "the added neuron, |delta| largest");
        assertEquals(7, saved.getInt("neurons[0].layer"));
        page.close();
    }

    @Test
    void tabsWorkWithTheKeyboard() {
        Page page = open(CHAT_KEY, "chat", 1200, 800);
        page.locator("#tab-chat").focus();
        page.keyboard().press("ArrowRight");
        assertThat(page.locator("#view-features")).isVisible();
        assertThat(page.locator("#tab-features")).isFocused();
        page.keyboard().press("ArrowLeft");
        assertThat(page.locator("#view-chat")).isVisible();
        assertThat(page.locator("#view-features")).isHidden();
        page.close();
    }

    private static JsonNode read(String json) {
        try {
            return JSON.readTree(json);
        } catch (Exception e) {
            throw new IllegalStateException(e);
        }
    }
}
