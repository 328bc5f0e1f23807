package dev.cna.gateway;

import com.microsoft.playwright.Browser;
import com.microsoft.playwright.BrowserType;
import com.microsoft.playwright.Page;
import com.microsoft.playwright.Playwright;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

import static org.junit.jupiter.api.Assertions.assertTrue;

/** Debian's headless Chromium driven by Playwright (which downloads no browser), and the tests' screenshots. */
final class HeadlessChromium implements AutoCloseable {
    private static final Path CHROMIUM = Path.of("/usr/bin/chromium");
    private static final Path SCREENSHOTS = Path.of("target", "screenshots");

    private final Playwright playwright;
    private final Browser browser;

    private HeadlessChromium(Playwright playwright, Browser browser) {
        this.playwright = playwright;
        this.browser = browser;
    }

    static HeadlessChromium launch() {
        assertTrue(Files.isExecutable(CHROMIUM), CHROMIUM + " is missing: apt-get install -y chromium (.ci/run does)");
        Playwright playwright = Playwright.create();
        return new HeadlessChromium(playwright,
                playwright.chromium().launch(new BrowserType.LaunchOptions().setExecutablePath(CHROMIUM).setHeadless(true)));
    }

    /** A new page (its own context: storage is not shared with other pages) of width x height CSS pixels. */
    Page newPage(int width, int height) {
        return browser.newPage(new Browser.NewPageOptions().setViewportSize(width, height));
    }

    /** The whole page as target/screenshots/NAME.png. */
    static void screenshot(Page page, String name) throws IOException {
        Files.createDirectories(SCREENSHOTS);
        page.screenshot(new Page.ScreenshotOptions().setPath(SCREENSHOTS.resolve(name + ".png")).setFullPage(true));
    }

    @Override
    public void close() {
        playwright.close(); // closes the browser too
    }
}
