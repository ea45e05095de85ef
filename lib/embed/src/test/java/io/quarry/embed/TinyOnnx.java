package io.quarry.embed;

import java.io.ByteArrayOutputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;

/**
 * Writes a tiny ONNX cross-encoder for tests, protobuf bytes by hand (onnx.proto3, IR 7, opset 11): {@code score =
 * Σ_t mask[t] · W[input_ids[t]]}, i.e. a bag-of-tokens linear scorer over the (query, passage) pair. Graph:
 * {@code Gather(W, input_ids) · Unsqueeze(Cast(attention_mask), 2)} → {@code ReduceSum(axis 1)} → {@code logits
 * [batch, 1]}.
 */
public final class TinyOnnx {
  private TinyOnnx() {}

  /** The token weight {@code W[id]} of the model {@link #writeCrossEncoder} writes: a fixed hash of the id. */
  public static float weight(long id) {
    return ((id * 2654435761L) % 1000) / 1000f - 0.3f;
  }

  /**
   * Writes a cross-encoder directory ({@code model.onnx} with weights {@link #weight}, and the bundled bge-small
   * BERT {@code tokenizer.json}) for {@link OnnxCrossEncoder}.
   *
   * @return {@code dir}
   */
  public static java.nio.file.Path writeCrossEncoder(java.nio.file.Path dir) throws java.io.IOException {
    java.nio.file.Files.createDirectories(dir);
    try (java.io.InputStream in = TinyOnnx.class.getResourceAsStream("/bge-small-en-v1.5-q-tokenizer.json")) {
      java.nio.file.Files.copy(in, dir.resolve("tokenizer.json"));
    }
    float[] w = new float[30522];
    for (int i = 0; i < w.length; i++) {
      w[i] = weight(i);
    }
    java.nio.file.Files.write(dir.resolve("model.onnx"), model(w));
    return dir;
  }

  static final class Pb {
    final ByteArrayOutputStream out = new ByteArrayOutputStream();

    Pb varint(long v) {
      while ((v & ~0x7FL) != 0) {
        out.write((int) ((v & 0x7F) | 0x80));
        v >>>= 7;
      }
      out.write((int) v);
      return this;
    }

    Pb tag(int field, int wire) {
      return varint(((long) field << 3) | wire);
    }

    Pb i(int field, long v) {
      return tag(field, 0).varint(v);
    }

    Pb bytes(int field, byte[] b) {
      tag(field, 2).varint(b.length);
      out.write(b, 0, b.length);
      return this;
    }

    Pb s(int field, String v) {
      return bytes(field, v.getBytes(StandardCharsets.UTF_8));
    }

    Pb msg(int field, Pb m) {
      return bytes(field, m.out.toByteArray());
    }

    byte[] get() {
      return out.toByteArray();
    }
  }

  static Pb node(String op, String[] in, String out, Pb... attrs) {
    Pb n = new Pb();
    for (String x : in) {
      n.s(1, x);
    }
    n.s(2, out).s(3, op + "_" + out).s(4, op);
    for (Pb a : attrs) {
      n.msg(5, a);
    }
    return n;
  }

  static Pb intAttr(String name, long v) {
    return new Pb().s(1, name).i(3, v).i(20, 2); // type INT
  }

  static Pb intsAttr(String name, long... vs) {
    Pb a = new Pb().s(1, name);
    for (long v : vs) {
      a.i(8, v);
    }
    return a.i(20, 7); // type INTS
  }

  static Pb valueInfo(String name, int elemType, Object... dims) {
    Pb shape = new Pb();
    for (Object d : dims) {
      shape.msg(1, d instanceof String p ? new Pb().s(2, p) : new Pb().i(1, ((Number) d).longValue()));
    }
    Pb tensor = new Pb().i(1, elemType).msg(2, shape);
    return new Pb().s(1, name).msg(2, new Pb().msg(1, tensor));
  }

  /** The model bytes for token weights {@code w} ({@code vocab} floats). */
  public static byte[] model(float[] w) {
    ByteBuffer raw = ByteBuffer.allocate(4 * w.length).order(ByteOrder.LITTLE_ENDIAN);
    for (float x : w) {
      raw.putFloat(x);
    }
    Pb init = new Pb().i(1, w.length).i(1, 1).i(2, 1).s(8, "W").bytes(9, raw.array()); // FLOAT [V, 1]
    Pb graph = new Pb()
        .msg(1, node("Gather", new String[] {"W", "input_ids"}, "E", intAttr("axis", 0)))
        .msg(1, node("Cast", new String[] {"attention_mask"}, "Mf", intAttr("to", 1)))
        .msg(1, node("Unsqueeze", new String[] {"Mf"}, "M3", intsAttr("axes", 2)))
        .msg(1, node("Mul", new String[] {"E", "M3"}, "P"))
        .msg(1, node("ReduceSum", new String[] {"P"}, "logits", intsAttr("axes", 1), intAttr("keepdims", 0)))
        .s(2, "tiny-cross-encoder")
        .msg(5, init)
        .msg(11, valueInfo("input_ids", 7, "batch", "seq"))
        .msg(11, valueInfo("attention_mask", 7, "batch", "seq"))
        .msg(12, valueInfo("logits", 1, "batch", 1));
    return new Pb().i(1, 7).s(2, "quarry-test").msg(7, graph).msg(8, new Pb().s(1, "").i(2, 11)).get();
  }
}
