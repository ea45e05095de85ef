package io.quarry.embed;

import ai.djl.huggingface.tokenizers.Encoding;
import ai.djl.huggingface.tokenizers.HuggingFaceTokenizer;
import ai.djl.huggingface.tokenizers.jni.CharSpan;
import io.quarry.core.chunk.TokenSpans;
import io.quarry.core.chunk.Tokenizer;
import io.quarry.core.config.EmbeddingConfig;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/**
 * A model's Hugging Face {@code tokenizer.json} run by DJL's binding of the Rust {@code tokenizers} library, as a
 * {@link Tokenizer} for the chunker: no special tokens, no truncation, no padding (whatever the JSON file has baked
 * in). Offsets are converted to UTF-16 char indices. Instances are cached per JVM and model; thread-safe.
 */
public final class HfTokenizer implements Tokenizer, AutoCloseable {
  private static final Map<String, HfTokenizer> CACHE = new ConcurrentHashMap<>();

  private final HuggingFaceTokenizer tokenizer;

  private HfTokenizer(HuggingFaceTokenizer tokenizer) {
    this.tokenizer = tokenizer;
  }

  /**
   * The chunking tokenizer of the configured model, shared per JVM.
   *
   * @throws EmbedderException if the tokenizer cannot be found or read
   */
  public static HfTokenizer forModel(EmbeddingConfig cfg) {
    String key = cfg.model() + "|" + cfg.modelPath();
    return CACHE.computeIfAbsent(key, k -> new HfTokenizer(open(ModelFiles.loadTokenizerJson(cfg),
        Map.of("addSpecialTokens", "false", "truncation", "false", "padding", "false"), cfg.model())));
  }

  /** Opens a DJL tokenizer from tokenizer.json bytes with the given DJL options. */
  static HuggingFaceTokenizer open(byte[] json, Map<String, String> options, String what) {
    try {
      return HuggingFaceTokenizer.newInstance(new ByteArrayInputStream(json), options);
    } catch (IOException | RuntimeException e) {
      throw new EmbedderException("cannot load tokenizer of model '" + what + "': " + e.getMessage(), e);
    }
  }

  @Override
  public TokenSpans tokenize(String text) {
    if (text.isEmpty()) {
      return TokenSpans.empty();
    }
    Encoding enc = tokenizer.encode(text, false, false);
    CharSpan[] spans = enc.getCharTokenSpans();
    int[] starts = new int[spans.length];
    int[] ends = new int[spans.length];
    CodePointIndex idx = CodePointIndex.of(text);
    int n = 0;
    for (CharSpan s : spans) {
      if (s == null) {
        continue;
      }
      starts[n] = idx.toUtf16(s.getStart());
      ends[n] = idx.toUtf16(s.getEnd());
      n++;
    }
    return new TokenSpans(java.util.Arrays.copyOf(starts, n), java.util.Arrays.copyOf(ends, n));
  }

  @Override
  public void close() {
    // shared per JVM; released at JVM exit
  }

  /**
   * Maps the tokenizer's offsets (Unicode code point indices) to UTF-16 indices; the identity when the text has no
   * supplementary characters.
   */
  static final class CodePointIndex {
    private final int[] cpToUtf16;

    private CodePointIndex(int[] map) {
      this.cpToUtf16 = map;
    }

    static CodePointIndex of(String text) {
      if (text.codePointCount(0, text.length()) == text.length()) {
        return new CodePointIndex(null);
      }
      int n = text.codePointCount(0, text.length());
      int[] map = new int[n + 1];
      int u = 0;
      for (int i = 0; i < n; i++) {
        map[i] = u;
        u += Character.charCount(text.codePointAt(u));
      }
      map[n] = u;
      return new CodePointIndex(map);
    }

    int toUtf16(int cp) {
      return cpToUtf16 == null ? cp : cpToUtf16[Math.min(cp, cpToUtf16.length - 1)];
    }
  }
}
