package io.quarry.jobs.chunk;

import io.quarry.core.ingest.TextDocumentParser;
import java.io.FileNotFoundException;
import java.io.IOException;
import java.io.InputStream;
import java.util.ArrayList;
import java.util.List;
import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.fs.FileStatus;
import org.apache.hadoop.fs.FileSystem;
import org.apache.hadoop.fs.LocatedFileStatus;
import org.apache.hadoop.fs.Path;
import org.apache.hadoop.fs.RemoteIterator;
import org.apache.hadoop.io.compress.CompressionCodec;
import org.apache.hadoop.io.compress.CompressionCodecFactory;

/**
 * Lists and opens the files of an input on any Hadoop filesystem ({@code file://}, {@code s3a://}, bare local
 * paths). A corpus path may be a file or a directory (searched recursively; names starting with {@code _} or
 * {@code .} are skipped, as Hadoop and Spark do). Files are returned sorted by path so that reading order, and so
 * the choice among duplicate ids, is deterministic. Compressed files ({@code .gz}, {@code .bz2}, {@code .zst}/
 * {@code .zstd} via zstd-jni, and any other codec Hadoop knows by suffix) are decompressed transparently.
 */
public final class InputFiles {
  private InputFiles() {}

  /**
   * Files of the input.
   *
   * @param corpus the configured {@code input.corpus}
   * @param format {@code input.format}: {@code text} keeps only .txt/.md/.html files (compressed or not)
   * @throws FileNotFoundException naming {@code input.corpus} when the path does not exist or holds no file
   */
  public static List<String> list(String corpus, String format, Configuration conf) throws IOException {
    Path root = new Path(corpus);
    FileSystem fs = root.getFileSystem(conf);
    if (!fs.exists(root)) {
      throw new FileNotFoundException("input.corpus: " + corpus + " does not exist");
    }
    FileStatus st = fs.getFileStatus(root);
    List<String> out = new ArrayList<>();
    if (st.isFile()) {
      out.add(st.getPath().toString());
    } else {
      RemoteIterator<LocatedFileStatus> it = fs.listFiles(root, true);
      String rootStr = st.getPath().toString();
      while (it.hasNext()) {
        LocatedFileStatus f = it.next();
        String rel = f.getPath().toString().substring(rootStr.length());
        if (hidden(rel)) {
          continue;
        }
        if ("text".equals(format) && !TextDocumentParser.accepts(f.getPath().getName())) {
          continue;
        }
        out.add(f.getPath().toString());
      }
    }
    out.sort(null);
    if (out.isEmpty()) {
      throw new FileNotFoundException("input.corpus: " + corpus + " holds no input file"
          + ("text".equals(format) ? " (.txt, .md, .html, optionally .gz/.bz2)" : ""));
    }
    return out;
  }

  private static boolean hidden(String relPath) {
    for (String part : relPath.split("/")) {
      if (part.startsWith("_") || part.startsWith(".")) {
        return true;
      }
    }
    return false;
  }

  /**
   * Opens a file, decompressing by suffix: {@code .zst}/{@code .zstd} with zstd-jni (Hadoop's own zstd codec needs
   * a native libhadoop that is usually absent), others ({@code .gz}, {@code .bz2}, ...) with Hadoop's codecs.
   *
   * @throws IOException when the file cannot be opened or its compressed stream does not start correctly (e.g. a
   *     truncated {@code .bz2}); any other failure of a codec (a runtime exception, a missing native library) is
   *     rethrown as an IOException naming the file, so that callers quarantine the file instead of failing
   */
  public static InputStream open(String file, Configuration conf) throws IOException {
    Path p = new Path(file);
    FileSystem fs = p.getFileSystem(conf);
    InputStream raw = fs.open(p);
    try {
      String name = p.getName().toLowerCase(java.util.Locale.ROOT);
      if (name.endsWith(".zst") || name.endsWith(".zstd")) {
        return new com.github.luben.zstd.ZstdInputStream(raw);
      }
      CompressionCodec codec = new CompressionCodecFactory(conf).getCodec(p);
      return codec == null ? raw : codec.createInputStream(raw);
    } catch (IOException | RuntimeException | LinkageError e) {
      raw.close();
      throw new IOException(file + ": cannot open or decompress: " + e, e);
    }
  }

  /** {@code file} relative to {@code root} (the document id of a directory input's file). */
  public static String relativize(String root, String file) {
    String r = new Path(root).toUri().getPath();
    String f = new Path(file).toUri().getPath();
    if (f.startsWith(r)) {
      String rel = f.substring(r.length());
      while (rel.startsWith("/")) {
        rel = rel.substring(1);
      }
      return rel.isEmpty() ? new Path(file).getName() : rel;
    }
    return new Path(file).getName();
  }
}
