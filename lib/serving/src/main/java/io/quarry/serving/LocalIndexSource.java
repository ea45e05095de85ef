package io.quarry.serving;

import io.quarry.core.segment.IndexManifest;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;

/** Index versions in a local directory ({@code <root>/CURRENT}, {@code <root>/<version>/}). */
public final class LocalIndexSource implements IndexSource {
  private final Path root;

  public LocalIndexSource(Path root) {
    this.root = root.toAbsolutePath().normalize();
  }

  @Override
  public String currentVersion() throws IOException {
    Path c = root.resolve(IndexManifest.CURRENT);
    try {
      return IndexSource.checkVersionId(Files.readString(c, StandardCharsets.UTF_8), c.toString());
    } catch (NoSuchFileException e) {
      throw new IOException(c + ": missing (no published index version)");
    }
  }

  @Override
  public Path fetch(String version) throws IOException {
    Path dir = root.resolve(version).normalize();
    if (!dir.getParent().equals(root)) {
      throw new IOException("version id escapes the index root: " + version);
    }
    if (!Files.isRegularFile(dir.resolve(IndexManifest.FILE_NAME))) {
      throw new IOException(dir + ": no " + IndexManifest.FILE_NAME + " (missing or incomplete version)");
    }
    return dir;
  }

  @Override
  public String redact(String message) {
    return ClientMessages.redact(message, root);
  }

  @Override
  public String describe() {
    return root.toString();
  }
}
