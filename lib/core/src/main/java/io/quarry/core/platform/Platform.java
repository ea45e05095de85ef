package io.quarry.core.platform;

import com.fasterxml.jackson.annotation.JsonIgnoreProperties;
import java.io.Serializable;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.Objects;
import java.util.TreeSet;

/**
 * The kind of processor and runtime that computed embeddings: what decides which ONNX Runtime (MLAS) kernels ran.
 * The int8 models' vectors depend on it (AVX-512 VNNI, AVX2, SSE, NEON dot-product, ... kernels round differently),
 * so vectors, segments and metrics are byte-identical only between runs on the same kind; see docs/benchmarks.md.
 * Two machines of the same kind may be different CPU models: only the instruction sets that select kernels count.
 *
 * @param arch {@code os.arch} ({@code amd64}, {@code aarch64}, ...)
 * @param isa the instruction sets among those that select kernels, sorted (x86: {@code avx2}, {@code avx512f},
 *     {@code avx512_vnni}, {@code avx_vnni}, {@code avx512_bf16}, {@code amx_*}; ARM: {@code asimd}/{@code neon},
 *     {@code asimddp}, {@code i8mm}, {@code sve}, ...); empty when unknown (no {@code /proc/cpuinfo})
 * @param onnxRuntime ONNX Runtime version
 */
@JsonIgnoreProperties(ignoreUnknown = true)
public record Platform(String arch, List<String> isa, String onnxRuntime) implements Serializable {
  private static final long serialVersionUID = 1L;

  public Platform {
    isa = isa == null ? List.of() : List.copyOf(new TreeSet<>(isa));
  }

  /** One line for logs and warnings: {@code amd64 [avx2 avx512f avx512_vnni], onnxruntime 1.28.0}. */
  public String describe() {
    return arch + " [" + String.join(" ", isa) + "], onnxruntime " + onnxRuntime;
  }

  /** The distinct platforms of {@code all} (null and duplicates dropped), in a stable order. */
  public static List<Platform> distinct(Collection<Platform> all) {
    TreeSet<String> seen = new TreeSet<>();
    List<Platform> out = new ArrayList<>();
    all.stream().filter(Objects::nonNull).sorted(java.util.Comparator.comparing(Platform::describe))
        .forEach(p -> {
          if (seen.add(p.describe())) {
            out.add(p);
          }
        });
    return List.copyOf(out);
  }

  /** {@link #describe()} of each, joined by {@code "; "} ({@code unknown} for null or none). */
  public static String describe(Collection<Platform> all) {
    if (all == null || all.isEmpty()) {
      return "unknown";
    }
    List<String> d = new ArrayList<>();
    for (Platform p : distinct(all)) {
      d.add(p.describe());
    }
    return String.join("; ", d);
  }
}
