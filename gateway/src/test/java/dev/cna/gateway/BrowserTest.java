package dev.cna.gateway;

import com.fasterxml.jackson.databind.JsonNode;
import com.microsoft.playwright.Locator;
import com.microsoft.playwright.Page;
import com.microsoft.playwright.Request;
import com.microsoft.playwright.assertions.LocatorAssertions;
import io.quarkus.test.common.WithTestResource;
import io.quarkus.test.common.http.TestHTTPResource;
import io.quarkus.test.junit.QuarkusTest;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.net.URL;
import java.util.List;

import static com.microsoft.playwright.assertions.PlaywrightAssertions.assertThat;
import static dev.cna.gateway.Platform.CHAT_KEY;
import static dev.cna.gateway.Platform.JSON;
import static io.restassured.RestAssured.given;
import static org.hamcrest.Matchers.containsString;
import static org.hamcrest.Matchers.startsWith;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The web UI in real headless Chromium (Debian's /usr/bin/chromium; Playwright downloads no browser), against the
 * real gateway, steering-service and Kafka: a key, a streamed reply, a circuit picked and its slider moved, its
 * version shown live. Screenshots go to target/screenshots/.
 */
@QuarkusTest
@WithTestResource(SteeringStack.class)
class BrowserTest {
    private static final String CIRCUIT = "browser-test";

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

    @Test
    void staticFilesNeedNoKey() {
        given().get("/").then().statusCode(200).contentType(startsWith("text/html")).body(containsString("js/main.js"));
        given().get("/js/main.js").then().statusCode(200);
        given().get("/app.css").then().statusCode(200);
    }

    @Test
    void chatStreamsAndIsSteeredByThePickedCircuit() throws Exception {
        Platform.publish(CIRCUIT, 1, Platform.circuit(CIRCUIT, 1, 4, 9, 3));
        Page page = chromium.newPage(1200, 800);
        page.navigate(ui.toString());

        page.locator("#key").fill(CHAT_KEY);
        page.locator("#key").press("Enter"); // change event: the UI saves the key and loads the circuits
        Locator card = page.locator(".circuit[data-name='" + CIRCUIT + "']");
        assertThat(card.locator(".version")).hasText("v1");
        assertEquals(6, card.locator(".chart .bar").count(), "one bar per layer 4..9");

        card.locator(".use").check();
        Locator slider = card.locator(".multiplier");
        slider.focus();
        for (int i = 0; i < 5; i++) {
            slider.press("ArrowLeft"); // 1.0 -> 0.5 in steps of 0.1, as a person would with the keyboard
        }
        assertThat(card.locator(".value")).hasText("0.5");

        // Record every length the reply's text takes while it streams, from inside the page.
        page.evaluate("""
                () => { window.lengths = [];
                        new MutationObserver(() => {
                          const t = document.querySelector('.msg.assistant .text');
                          if (t) window.lengths.push(t.textContent.length);
                        }).observe(document.getElementById('messages'), {childList: true, subtree: true, characterData: true}); }""");
        page.locator("#temperature").fill("0");
        page.locator("#max-tokens").fill("200"); // long enough to arrive in many reads on a fast machine
        page.locator("#prompt").fill("Tell me about Paris.");
        Request sent = page.waitForRequest("**/v1/chat/completions", () -> page.locator("#send").click());

        Locator reply = page.locator(".msg.assistant");
        assertThat(reply).hasCount(1);
        assertThat(page.locator(".msg.streaming")).hasCount(0, new LocatorAssertions.HasCountOptions().setTimeout(60_000));
        JsonNode body = JSON.readTree(sent.postData());
        assertTrue(body.get("stream").asBoolean());
        assertEquals(CIRCUIT, body.at("/steering/0/circuit").asText());
        assertEquals(0.5, body.at("/steering/0/multiplier").asDouble(), 1e-9);
        assertEquals("live", body.get("steering_mode").asText());

        @SuppressWarnings("unchecked")
        List<Number> lengths = (List<Number>) page.evaluate("window.lengths");
        long distinct = lengths.stream().mapToInt(Number::intValue).filter(n -> n > 0).distinct().count();
        assertTrue(distinct >= 5, "the reply should grow token by token, lengths seen: " + lengths);
        assertTrue(reply.locator(".text").textContent().length() > 0);
        assertThat(reply.locator(".info")).containsText(CIRCUIT + " v1");
        HeadlessChromium.screenshot(page, "chat-steered");

        // A new version on Kafka shows in the picker without a reload.
        Platform.publish(CIRCUIT, 2, Platform.circuit(CIRCUIT, 2, 4, 11, 3));
        assertThat(card.locator(".version")).hasText("v2");
        assertThat(card.locator(".chart .bar")).hasCount(8);
        HeadlessChromium.screenshot(page, "circuit-v2");
        page.close();
    }
}
