package io.quarry.embed;

import ai.onnxruntime.OnnxTensor;
import ai.onnxruntime.OnnxValue;
import ai.onnxruntime.OrtEnvironment;
import ai.onnxruntime.OrtException;
import ai.onnxruntime.OrtSession;
import ai.djl.huggingface.tokenizers.Encoding;
import ai.djl.huggingface.tokenizers.HuggingFaceTokenizer;
import io.quarry.core.config.EmbeddingConfig;
import java.nio.FloatBuffer;
import java.nio.LongBuffer;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Embeds queries and passages with a sentence-embedding model run by ONNX Runtime: Hugging Face tokenization (DJL),
 * the model's transformer, pooling ({@link Pooling}: mean under the attention mask, or CLS), then L2 normalization.
 * The model card's prefixes are added ({@link ModelSpec}).
 *
 * <p>One {@link OrtSession} per JVM and model: {@link #open} returns a handle onto a per-JVM cache, so the many tasks
 * of a Spark executor share one session (ONNX Runtime sessions are safe for concurrent {@code run} calls).
 * {@link #close()} releases the handle only; {@link #closeAll()} frees the sessions.
 *
 * <p>Within one call, texts are tokenized (truncated to {@code maxSeqLength} tokens, special tokens included), sorted
 * by token length and run in batches of {@code batchSize} padded to the longest in the batch, which keeps padding
 * small; results come back in input order. Thread-safe.
 */
public final class Embedder implements AutoCloseable {
  private static final Logger LOG = LoggerFactory.getLogger(Embedder.class);
  private static final Map<String, Loaded> CACHE = new ConcurrentHashMap<>();

  private final Loaded model;
  private final int batchSize;

  private Embedder(Loaded model, int batchSize) {
    this.model = model;
    this.batchSize = batchSize;
  }

  /**
   * Opens (or joins, within this JVM) the configured model.
   *
   * @param cfg model id or {@code custom} + local {@code modelPath}; batch size, max sequence length, intra-op
   *     threads
   * @throws EmbedderException naming the model when it cannot be found, read or loaded
   */
  public static Embedder open(EmbeddingConfig cfg) {
    String key = cfg.model() + "|" + cfg.modelPath() + "|" + cfg.maxSeqLength() + "|" + cfg.intraOpThreads();
    Loaded m = CACHE.computeIfAbsent(key, k -> Loaded.load(cfg));
    return new Embedder(m, cfg.batchSize());
  }

  /** Closes every cached session and tokenizer of this JVM (tests; JVM shutdown does it otherwise). */
  public static synchronized void closeAll() {
    for (Loaded m : CACHE.values()) {
      m.close();
    }
    CACHE.clear();
  }

  /** Number of models loaded in this JVM (tests check that tasks share one). */
  public static int loadedSessions() {
    return CACHE.size();
  }

  /** The model id ({@code bge-small-en-v1.5-q}, or {@code custom:<dir>}). */
  public String modelId() {
    return model.spec.id();
  }

  /** Lower-case hex SHA-256 of the ONNX file's bytes. */
  public String modelSha256() {
    return model.sha256;
  }

  /** Embedding dimension d. */
  public int dim() {
    return model.dim;
  }

  public Pooling pooling() {
    return model.spec.pooling();
  }

  public int maxSeqLength() {
    return model.maxSeqLength;
  }

  public ModelSpec spec() {
    return model.spec;
  }

  /**
   * Embeds queries (with the model's query prefix).
   *
   * @return n × dim, rows L2-normalized, in input order
   * @throws EmbedderException if ONNX Runtime fails
   */
  public float[][] embedQueries(List<String> texts) {
    return embed(texts, model.spec.queryPrefix(), null);
  }

  /**
   * Embeds passages (with the model's passage prefix).
   *
   * @return n × dim, rows L2-normalized, in input order
   * @throws EmbedderException if ONNX Runtime fails
   */
  public float[][] embedPassages(List<String> texts) {
    return embed(texts, model.spec.passagePrefix(), null);
  }

  /**
   * As {@link #embedPassages(List)}, also reporting each text's token count (special tokens included, after
   * truncation) in {@code tokenCounts[i]}.
   */
  public float[][] embedPassages(List<String> texts, int[] tokenCounts) {
    return embed(texts, model.spec.passagePrefix(), tokenCounts);
  }

  private float[][] embed(List<String> texts, String prefix, int[] tokenCounts) {
    int n = texts.size();
    float[][] out = new float[n][];
    if (n == 0) {
      return out;
    }
    Encoding[] enc = new Encoding[n];
    Integer[] order = new Integer[n];
    for (int i = 0; i < n; i++) {
      enc[i] = model.tokenizer.encode(prefix.isEmpty() ? texts.get(i) : prefix + texts.get(i), true, false);
      order[i] = i;
      if (tokenCounts != null) {
        tokenCounts[i] = enc[i].getIds().length;
      }
    }
    // longest first, ties by input position: deterministic batches with little padding
    java.util.Arrays.sort(order, (a, b) -> {
      int c = Integer.compare(enc[b].getIds().length, enc[a].getIds().length);
      return c != 0 ? c : Integer.compare(a, b);
    });
    for (int from = 0; from < n; from += batchSize) {
      int to = Math.min(n, from + batchSize);
      Encoding[] batch = new Encoding[to - from];
      for (int j = from; j < to; j++) {
        batch[j - from] = enc[order[j]];
      }
      float[][] vecs = model.run(batch);
      for (int j = from; j < to; j++) {
        out[order[j]] = vecs[j - from];
      }
    }
    return out;
  }

  @Override
  public void close() {
    // the session is shared per JVM: see closeAll()
  }

  /** A loaded model: session + tokenizer, shared by all handles of this JVM. */
  private static final class Loaded {
    final ModelSpec spec;
    final String sha256;
    final int maxSeqLength;
    final OrtEnvironment env;
    final OrtSession session;
    final HuggingFaceTokenizer tokenizer;
    final boolean hasTokenTypes;
    final int dim;

    private Loaded(ModelSpec spec, String sha256, int maxSeqLength, OrtEnvironment env, OrtSession session,
        HuggingFaceTokenizer tokenizer) throws OrtException {
      this.spec = spec;
      this.sha256 = sha256;
      this.maxSeqLength = maxSeqLength;
      this.env = env;
      this.session = session;
      this.tokenizer = tokenizer;
      this.hasTokenTypes = session.getInputNames().contains("token_type_ids");
      for (String required : List.of("input_ids", "attention_mask")) {
        if (!session.getInputNames().contains(required)) {
          throw new EmbedderException("model '" + spec.id() + "' has inputs " + session.getInputNames()
              + ", missing " + required);
        }
      }
      this.dim = probeDim();
    }

    static Loaded load(EmbeddingConfig cfg) {
      long t0 = System.nanoTime();
      ModelFiles files = ModelFiles.load(cfg);
      HuggingFaceTokenizer tok = HfTokenizer.open(files.tokenizerJson(), Map.of(
          "addSpecialTokens", "true",
          "truncation", "true",
          "padding", "false",
          "maxLength", Integer.toString(cfg.maxSeqLength())), files.spec().id());
      try {
        OrtEnvironment env = OrtEnvironment.getEnvironment();
        OrtSession.SessionOptions opts = new OrtSession.SessionOptions();
        opts.setIntraOpNumThreads(cfg.intraOpThreads());
        opts.setInterOpNumThreads(1);
        opts.setOptimizationLevel(OrtSession.SessionOptions.OptLevel.ALL_OPT);
        OrtSession session = env.createSession(files.onnx(), opts);
        Loaded m = new Loaded(files.spec(), files.sha256(), cfg.maxSeqLength(), env, session, tok);
        LOG.info("loaded embedding model {} (sha256 {}, dim {}, pooling {}, maxSeqLength {}, intraOpThreads {}) "
            + "in {} ms", m.spec.id(), m.sha256.substring(0, 12), m.dim, m.spec.pooling().code(),
            cfg.maxSeqLength(), cfg.intraOpThreads(), (System.nanoTime() - t0) / 1_000_000);
        return m;
      } catch (OrtException e) {
        tok.close();
        throw new EmbedderException("model '" + files.spec().id() + "': ONNX Runtime cannot load it: "
            + e.getMessage(), e);
      }
    }

    private int probeDim() throws OrtException {
      float[][] v = run(new Encoding[] {tokenizer.encode("dimension probe", true, false)});
      return v[0].length;
    }

    /** Runs one batch; returns pooled, L2-normalized rows. */
    float[][] run(Encoding[] batch) {
      int b = batch.length;
      int seq = 0;
      for (Encoding e : batch) {
        seq = Math.max(seq, e.getIds().length);
      }
      long[] ids = new long[b * seq];
      long[] mask = new long[b * seq];
      long[] types = new long[b * seq];
      for (int i = 0; i < b; i++) {
        long[] x = batch[i].getIds();
        long[] m = batch[i].getAttentionMask();
        long[] t = batch[i].getTypeIds();
        System.arraycopy(x, 0, ids, i * seq, x.length);
        System.arraycopy(m, 0, mask, i * seq, m.length);
        System.arraycopy(t, 0, types, i * seq, t.length);
      }
      long[] shape = {b, seq};
      Map<String, OnnxTensor> inputs = new HashMap<>();
      try {
        inputs.put("input_ids", OnnxTensor.createTensor(env, LongBuffer.wrap(ids), shape));
        inputs.put("attention_mask", OnnxTensor.createTensor(env, LongBuffer.wrap(mask), shape));
        if (hasTokenTypes) {
          inputs.put("token_type_ids", OnnxTensor.createTensor(env, LongBuffer.wrap(types), shape));
        }
        try (OrtSession.Result result = session.run(inputs)) {
          OnnxValue v = result.get(0);
          OnnxTensor t = (OnnxTensor) v;
          long[] outShape = t.getInfo().getShape();
          FloatBuffer fb = t.getFloatBuffer();
          return pool(fb, outShape, mask, seq);
        }
      } catch (OrtException e) {
        throw new EmbedderException("model '" + spec.id() + "': inference failed on a batch of " + b + " × " + seq
            + " tokens: " + e.getMessage(), e);
      } finally {
        for (OnnxTensor t : inputs.values()) {
          t.close();
        }
      }
    }

    private float[][] pool(FloatBuffer fb, long[] shape, long[] mask, int seq) {
      int b = (int) shape[0];
      float[][] out;
      if (shape.length == 2) { // already pooled
        int d = (int) shape[1];
        out = new float[b][d];
        for (int i = 0; i < b; i++) {
          fb.get(i * d, out[i]);
        }
      } else {
        int s = (int) shape[1];
        int d = (int) shape[2];
        out = new float[b][d];
        for (int i = 0; i < b; i++) {
          float[] row = out[i];
          if (spec.pooling() == Pooling.CLS) {
            fb.get(i * s * d, row);
          } else {
            double[] acc = new double[d];
            long count = 0;
            for (int j = 0; j < s; j++) {
              if (mask[i * seq + j] == 0) {
                continue;
              }
              count++;
              int base = (i * s + j) * d;
              for (int k = 0; k < d; k++) {
                acc[k] += fb.get(base + k);
              }
            }
            for (int k = 0; k < d; k++) {
              row[k] = (float) (acc[k] / Math.max(1, count));
            }
          }
        }
      }
      for (float[] row : out) {
        normalize(row);
      }
      return out;
    }

    void close() {
      try {
        session.close();
      } catch (OrtException e) {
        LOG.warn("closing session of {}: {}", spec.id(), e.getMessage());
      }
      tokenizer.close();
    }
  }

  /** Scales {@code v} to unit L2 norm in place (a zero vector stays zero). */
  static void normalize(float[] v) {
    double s = 0;
    for (float x : v) {
      s += (double) x * x;
    }
    if (s == 0) {
      return;
    }
    float inv = (float) (1.0 / Math.sqrt(s));
    for (int i = 0; i < v.length; i++) {
      v[i] *= inv;
    }
  }
}
