package io.quarry.report;

import static org.assertj.core.api.Assertions.assertThat;

import java.awt.image.BufferedImage;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import javax.imageio.ImageIO;
import org.junit.jupiter.api.Assumptions;

/**
 * Opens a rendered report in headless Chromium (the reports' browser test; CI installs it). Public, in the test-jar:
 * the jobs' matrix test checks its leaderboard with it.
 */
public final class HeadlessChromium {
  static final Path CHROMIUM = Path.of("/usr/bin/chromium");

  private HeadlessChromium() {}

  record Run(int exit, String out, String err) {}

  /**
   * Writes {@code html} to {@code tmp}, loads it in headless Chromium and checks that it loads without script or
   * console errors, that the parsed DOM holds exactly the charts {@code chartIds} as SVG elements, and that a
   * screenshot of the top 2,400 px shows drawn charts: more than {@code minColoured} coloured pixels in a 4-px
   * sample grid (tables and text are grey or black). Skips (outside CI) when Chromium is not installed.
   */
  public static void assertLoadsWithCharts(Path tmp, String html, List<String> chartIds, int minColoured)
      throws Exception {
    if (!Files.isExecutable(CHROMIUM)) {
      if ("true".equalsIgnoreCase(System.getenv("CI"))) {
        throw new AssertionError(CHROMIUM + " is missing: CI must install it with .ci/install-system-deps");
      }
      Assumptions.abort(CHROMIUM + " not installed (run .ci/install-system-deps); skipped outside CI");
    }
    Path page = tmp.resolve("page.html");
    Files.writeString(page, html, StandardCharsets.UTF_8);
    Path png = tmp.resolve("shot.png");
    Run dom = chromium(tmp, List.of("--dump-dom", page.toUri().toString()));
    assertThat(dom.exit).as(dom.err).isZero();
    for (String id : chartIds) {
      assertThat(dom.out).contains("id=\"" + id + "\"");
    }
    // the parsed DOM holds the SVG elements (chromium re-serializes them) with drawn content
    Matcher svg = Pattern.compile("<svg[^>]*id=\"chart-[a-z-]+-svg\"").matcher(dom.out);
    int n = 0;
    while (svg.find()) {
      n++;
    }
    assertThat(n).isEqualTo(chartIds.size());
    assertThat(dom.err).doesNotContain("Uncaught").doesNotContainPattern("CONSOLE.*(?i)error");
    Run shot = chromium(tmp, List.of("--screenshot=" + png, "--window-size=1200,2400", page.toUri().toString()));
    assertThat(shot.exit).as(shot.err).isZero();
    BufferedImage img = ImageIO.read(png.toFile());
    assertThat(img.getWidth()).isEqualTo(1200);
    // charts are drawn: a good share of the page is neither white nor near-white
    long colored = 0;
    for (int y = 0; y < img.getHeight(); y += 4) {
      for (int x = 0; x < img.getWidth(); x += 4) {
        int rgb = img.getRGB(x, y);
        int r = (rgb >> 16) & 0xff;
        int g = (rgb >> 8) & 0xff;
        int b = rgb & 0xff;
        if (Math.max(r, Math.max(g, b)) - Math.min(r, Math.min(g, b)) > 60) {
          colored++;
        }
      }
    }
    assertThat(colored).as("coloured pixels (chart bars, lines and points)").isGreaterThan(minColoured);
  }

  static Run chromium(Path tmp, List<String> args) throws Exception {
    List<String> cmd = new ArrayList<>(List.of(CHROMIUM.toString(), "--headless", "--no-sandbox", "--disable-gpu",
        "--disable-quic", "--no-first-run", "--disable-background-networking", "--disable-component-update",
        "--disable-sync", "--enable-logging=stderr", "--v=0", "--user-data-dir=" + tmp.resolve("profile")));
    cmd.addAll(args);
    Path out = Files.createTempFile(tmp, "out", ".txt");
    Path err = Files.createTempFile(tmp, "err", ".txt");
    Process p = new ProcessBuilder(cmd).redirectOutput(out.toFile()).redirectError(err.toFile()).start();
    if (!p.waitFor(120, TimeUnit.SECONDS)) {
      p.destroyForcibly();
      throw new AssertionError("chromium did not finish in 120 s: " + Files.readString(err));
    }
    return new Run(p.exitValue(), Files.readString(out), Files.readString(err));
  }
}
