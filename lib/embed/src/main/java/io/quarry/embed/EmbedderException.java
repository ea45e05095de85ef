package io.quarry.embed;

/** A model that cannot be found, read or run; the message names the model id or file. */
public class EmbedderException extends RuntimeException {
  private static final long serialVersionUID = 1L;

  public EmbedderException(String message) {
    super(message);
  }

  public EmbedderException(String message, Throwable cause) {
    super(message, cause);
  }
}
