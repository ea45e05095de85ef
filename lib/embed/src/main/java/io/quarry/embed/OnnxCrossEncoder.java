package io.quarry.embed;

import ai.djl.huggingface.tokenizers.Encoding;
import ai.djl.huggingface.tokenizers.HuggingFaceTokenizer;
import ai.onnxruntime.OnnxTensor;
import ai.onnxruntime.OrtEnvironment;
import ai.onnxruntime.OrtException;
import ai.onnxruntime.OrtSession;
import io.quarry.core.search.HybridSearcher;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * A user-supplied ONNX cross-encoder (e.g. an MS MARCO MiniLM re-ranker exported to ONNX) as the last search stage:
 * each (query, passage) pair is tokenized together ({@code [CLS] query [SEP] passage [SEP]} for BERT-style
 * tokenizers, truncated to {@code maxLength} tokens), run in one batch padded to the longest pair, and scored by the
 * model's first output: shape {@code [batch, 1]} or {@code [batch]} (a relevance logit) or {@code [batch, 2]} (the
 * positive-class logit, column 1). Inputs fed by name when the model declares them: {@code input_ids},
 * {@code attention_mask}, {@code token_type_ids} (int64, {@code batch × seq}). Nogueira and Cho, "Passage
 * Re-ranking with BERT", 2019.
 *
 * <p>The directory holds {@code model.onnx} and {@code tokenizer.json}. One ONNX Runtime session per instance;
 * thread-safe (ONNX Runtime sessions are).
 */
public final class OnnxCrossEncoder implements HybridSearcher.Reranker, AutoCloseable {
  private final OrtEnvironment env;
  private final OrtSession session;
  private final HuggingFaceTokenizer tokenizer;
  private final Set<String> inputs;

  /**
   * @param dir directory with {@code model.onnx} and {@code tokenizer.json}
   * @param maxLength tokens per pair, special tokens included
   * @throws IOException naming the missing file, or if ONNX Runtime cannot load the model
   */
  public OnnxCrossEncoder(Path dir, int maxLength) throws IOException {
    Path model = dir.resolve("model.onnx");
    Path tok = dir.resolve("tokenizer.json");
    for (Path p : List.of(model, tok)) {
      if (!Files.isRegularFile(p)) {
        throw new IOException(p + ": cross-encoder file missing (need model.onnx and tokenizer.json)");
      }
    }
    this.tokenizer = HuggingFaceTokenizer.newInstance(tok, Map.of("truncation", "true", "padding", "false",
        "maxLength", Integer.toString(maxLength), "addSpecialTokens", "true"));
    this.env = OrtEnvironment.getEnvironment();
    try (OrtSession.SessionOptions opts = new OrtSession.SessionOptions()) {
      opts.setIntraOpNumThreads(1);
      this.session = env.createSession(model.toString(), opts);
      this.inputs = session.getInputNames();
    } catch (OrtException e) {
      tokenizer.close();
      throw new IOException(model + ": ONNX Runtime cannot load the cross-encoder: " + e.getMessage(), e);
    }
    if (!inputs.contains("input_ids")) {
      close();
      throw new IOException(model + ": cross-encoder must take an 'input_ids' input, has " + inputs);
    }
  }

  @Override
  public float[] score(String query, List<String> passages) throws IOException {
    int b = passages.size();
    if (b == 0) {
      return new float[0];
    }
    Encoding[] enc = new Encoding[b];
    int len = 1;
    for (int i = 0; i < b; i++) {
      enc[i] = tokenizer.encode(query, passages.get(i) == null ? "" : passages.get(i));
      len = Math.max(len, enc[i].getIds().length);
    }
    long[][] ids = new long[b][len];
    long[][] mask = new long[b][len];
    long[][] types = new long[b][len];
    for (int i = 0; i < b; i++) {
      long[] x = enc[i].getIds();
      System.arraycopy(x, 0, ids[i], 0, x.length);
      System.arraycopy(enc[i].getAttentionMask(), 0, mask[i], 0, x.length);
      System.arraycopy(enc[i].getTypeIds(), 0, types[i], 0, x.length);
    }
    Map<String, OnnxTensor> feed = new HashMap<>();
    try {
      feed.put("input_ids", OnnxTensor.createTensor(env, ids));
      if (inputs.contains("attention_mask")) {
        feed.put("attention_mask", OnnxTensor.createTensor(env, mask));
      }
      if (inputs.contains("token_type_ids")) {
        feed.put("token_type_ids", OnnxTensor.createTensor(env, types));
      }
      try (OrtSession.Result r = session.run(feed)) {
        Object v = r.get(0).getValue();
        float[] out = new float[b];
        if (v instanceof float[][] m) {
          for (int i = 0; i < b; i++) {
            out[i] = m[i].length == 2 ? m[i][1] : m[i][0];
          }
        } else if (v instanceof float[] a) {
          System.arraycopy(a, 0, out, 0, b);
        } else {
          throw new IOException("cross-encoder output has unsupported type " + v.getClass().getSimpleName()
              + " (expected float [batch], [batch,1] or [batch,2])");
        }
        return out;
      }
    } catch (OrtException e) {
      throw new IOException("cross-encoder inference failed: " + e.getMessage(), e);
    } finally {
      for (OnnxTensor t : feed.values()) {
        t.close();
      }
    }
  }

  @Override
  public void close() {
    try {
      session.close();
    } catch (OrtException e) {
      // closing: nothing to do
    }
    tokenizer.close();
  }
}
