package io.quarry.serving;

import java.nio.file.Path;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Error messages as HTTP clients see them: without local filesystem paths (which disclose the deployment's layout).
 * Messages from loaders and searchers name files by absolute path, which is right for logs and wrong for response
 * bodies.
 */
public final class ClientMessages {
  /** An absolute Unix path: '/' not preceded by a word char, ':' or '/' (so URLs like s3://b/k are left alone). */
  private static final Pattern ABSOLUTE = Pattern.compile("(?<![\\w.:/~-])/(?:[^\\s/'\"()<>,;]+/)*([^\\s/'\"()<>,;]+)");

  private ClientMessages() {}

  /**
   * Replaces, in {@code message}, each of {@code roots} (absolute, normalized) followed by a separator with nothing
   * — {@code /srv/index/v3/shard-00001/lists.ivf} becomes {@code v3/shard-00001/lists.ivf} for root {@code /srv/index}
   * — and then any remaining absolute path with {@code …/<last component>}.
   *
   * @param message a message, or null
   * @param roots directories whose relative paths may be shown
   * @return the redacted message (null for null)
   */
  public static String redact(String message, Path... roots) {
    if (message == null) {
      return null;
    }
    String m = message;
    for (Path r : roots) {
      String root = r.toAbsolutePath().normalize().toString();
      if (root.length() > 1) {
        m = m.replace(root + "/", "").replace(root, ".");
      }
    }
    Matcher x = ABSOLUTE.matcher(m);
    StringBuilder sb = new StringBuilder();
    while (x.find()) {
      x.appendReplacement(sb, Matcher.quoteReplacement("…/" + x.group(1)));
    }
    x.appendTail(sb);
    return sb.toString();
  }
}
