package io.quarry.core.eval;

/**
 * Malformed evaluation input (queries, qrels, run, baseline metrics). The message always names the source (file
 * path or URI) and, when known, the 1-based line and the offending field.
 */
public final class EvalInputException extends RuntimeException {
  private static final long serialVersionUID = 1L;

  public EvalInputException(String source, int line, String message) {
    super(source + (line > 0 ? ":" + line : "") + ": " + message);
  }

  public EvalInputException(String source, int line, String message, Throwable cause) {
    super(source + (line > 0 ? ":" + line : "") + ": " + message, cause);
  }
}
