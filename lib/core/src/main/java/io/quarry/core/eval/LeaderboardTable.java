package io.quarry.core.eval;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * The cells of a {@link Leaderboard}'s tables — the leaderboard per board and its significance table — shared by the
 * Markdown rendering here ({@link #toMarkdown}) and lib/report's HTML, so both show the same numbers, marks and
 * dashes.
 */
public final class LeaderboardTable {
  private LeaderboardTable() {}

  /** Header of a board's leaderboard table. */
  public static List<String> header(Leaderboard.Result r, Leaderboard.Board b) {
    List<String> h = new ArrayList<>(List.of("run", "stage"));
    h.addAll(b.metrics());
    h.addAll(List.of("bytes/vector", "p50 ms"));
    if (hasBuildTimes(r)) {
      h.add("build s");
    }
    h.add("wins / losses / ties (" + r.metric() + ")");
    return h;
  }

  /** Whether some run records its build time (the {@code build s} column is shown only then). */
  public static boolean hasBuildTimes(Leaderboard.Result r) {
    return r.runs().stream().anyMatch(i -> i.buildSeconds() != null);
  }

  /** The build seconds of the run labelled {@code label}, or null. */
  static Double buildSeconds(Leaderboard.Result r, String label) {
    return r.runs().stream().filter(i -> i.label().equals(label)).map(Leaderboard.RunInfo::buildSeconds)
        .filter(java.util.Objects::nonNull).findFirst().orElse(null);
  }

  /**
   * Cells of one leaderboard row: label (with "(baseline)"), stage, each metric (4 decimals, with {@value
   * Leaderboard#Leaderboard.BETTER} or {@value Leaderboard#Leaderboard.WORSE} when significantly different from the
   * baseline after Holm's correction), bytes per vector, p50 ms, build seconds (when some run records them), and
   * wins/losses/ties on the ranking metric; {@code —} for what the run does not have.
   */
  public static List<String> cells(Leaderboard.Result r, Leaderboard.Board b, Leaderboard.Row row) {
    List<String> c = new ArrayList<>();
    c.add(row.run() + (row.baseline() ? " (baseline)" : ""));
    c.add(row.stage() == null ? "—" : row.stage());
    for (String m : b.metrics()) {
      Double v = row.metrics().get(m);
      Leaderboard.Versus vs = row.versus().get(m);
      c.add(v == null ? "—" : String.format(Locale.ROOT, "%.4f", v) + mark(vs));
    }
    c.add(row.bytesPerVector() == null ? "—" : String.format(Locale.ROOT, "%.1f", row.bytesPerVector()));
    c.add(row.latencyMsP50() == null ? "—" : String.format(Locale.ROOT, "%.2f", row.latencyMsP50()));
    if (hasBuildTimes(r)) {
      Double bs = buildSeconds(r, row.run());
      c.add(bs == null ? "—" : String.format(Locale.ROOT, "%.1f", bs));
    }
    Leaderboard.Versus w = row.versus().get(r.metric());
    c.add(w == null ? "—" : w.wins() + " / " + w.losses() + " / " + w.ties());
    return c;
  }

  /** Header of a board's significance table: the run, then one column per metric. */
  public static List<String> significanceHeader(Leaderboard.Board b) {
    List<String> h = new ArrayList<>(List.of("run vs baseline"));
    for (String m : b.metrics()) {
      h.add(m + ": Δ (p, Holm p)");
    }
    return h;
  }

  /** The significance rows of a board: one per compared run, in leaderboard order. */
  public static List<List<String>> significanceRows(Leaderboard.Board b) {
    List<List<String>> out = new ArrayList<>();
    for (Leaderboard.Row row : b.rows()) {
      if (row.versus().isEmpty()) {
        continue;
      }
      List<String> c = new ArrayList<>(List.of(row.run()));
      for (String m : b.metrics()) {
        Leaderboard.Versus v = row.versus().get(m);
        c.add(v == null ? "—" : String.format(Locale.ROOT, "%+.4f (p %.4f, Holm %.4f)", v.delta(), v.p(), v.pHolm())
            + mark(v));
      }
      out.add(c);
    }
    return out;
  }

  /** {@code " ▲"} / {@code " ▼"} when {@code v} is significant, else empty. */
  public static String mark(Leaderboard.Versus v) {
    if (v == null || !v.significant() || v.delta() == 0) {
      return "";
    }
    return " " + (v.delta() > 0 ? Leaderboard.BETTER : Leaderboard.WORSE);
  }

  /** One sentence on the significance method, for the rendered reports. */
  public static String method(Leaderboard.Result r) {
    return String.format(Locale.ROOT, "%s / %s: different from the baseline %s at family-wise level α = %.2f — "
        + "two-sided paired randomization test over the queries both runs evaluated (%d sign flips, seed %d; the "
        + "p-value quarry compare prints), Holm-adjusted over the runs compared on the same board and metric "
        + "(Holm 1979).", Leaderboard.BETTER, Leaderboard.WORSE, r.baseline(), r.alpha(), r.permutations(), r.seed());
  }

  /** Markdown rendering: runs, then per board the leaderboard table and the significance table. */
  public static String toMarkdown(Leaderboard.Result r) {
    StringBuilder sb = new StringBuilder();
    sb.append("# Leaderboard: ").append(r.runs().size()).append(" evaluations, baseline `").append(r.baseline())
        .append("`, ranked by ").append(r.metric()).append("\n\n");
    mdRow(sb, List.of("run", "run id", "model", "index spec", "index version", "final stage", "queries"));
    mdRule(sb, 7);
    for (Leaderboard.RunInfo i : r.runs()) {
      mdRow(sb, List.of(i.label(), nz(i.runId()), nz(i.modelId()), nz(i.indexSpec()), nz(i.indexVersion()),
          nz(i.finalStage()), String.valueOf(i.queries())));
    }
    sb.append('\n').append(method(r)).append('\n');
    for (Leaderboard.Board b : r.boards()) {
      sb.append("\n## ")
          .append(b.name().equals(Leaderboard.FINAL) ? "Final stage of each run" : "Stage `" + b.name() + "`")
          .append("\n\n");
      List<String> h = header(r, b);
      mdRow(sb, h);
      mdRule(sb, h.size());
      for (Leaderboard.Row row : b.rows()) {
        mdRow(sb, cells(r, b, row));
      }
      List<List<String>> sig = significanceRows(b);
      if (!sig.isEmpty()) {
        sb.append('\n');
        mdRow(sb, significanceHeader(b));
        mdRule(sb, b.metrics().size() + 1);
        for (List<String> s : sig) {
          mdRow(sb, s);
        }
      }
      for (String n : b.notes()) {
        sb.append("\n> ").append(n).append('\n');
      }
    }
    return sb.toString();
  }

  private static String nz(String s) {
    return s == null ? "—" : s;
  }

  private static void mdRow(StringBuilder sb, List<String> cells) {
    sb.append('|');
    for (String c : cells) {
      sb.append(' ').append(c.replace("|", "\\|")).append(" |");
    }
    sb.append('\n');
  }

  private static void mdRule(StringBuilder sb, int n) {
    sb.append("|---|").append("---|".repeat(n - 1)).append('\n');
  }
}
