package io.quarry.embed;

import ai.onnxruntime.OrtEnvironment;
import io.quarry.core.platform.Platform;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Set;

/**
 * Detects this JVM's {@link Platform}: {@code os.arch}, the processor's instruction sets that make ONNX Runtime's
 * MLAS choose one kernel over another (read from the first {@code flags} line (x86) or {@code Features} line (ARM)
 * of {@code /proc/cpuinfo} on Linux; empty elsewhere), and the ONNX Runtime version. Spark-free: the embed job
 * calls it inside the executors, whose processors computed the vectors. In a VM or container the kernel reports the
 * CPUID the guest sees, which is what ONNX Runtime sees too; under QEMU user-mode emulation ({@code bin/test-cpu-path})
 * it reports the host's flags, not the emulated model's.
 */
public final class RuntimePlatform {
  /**
   * x86 flags (Linux names) that select MLAS kernels: FMA/AVX2 float and U8S8 kernels, AVX-VNNI, AVX-512 F/core,
   * AVX-512 VNNI integer kernels, bf16/fp16 and AMX kernels.
   */
  static final Set<String> X86 = Set.of("avx", "avx2", "fma", "avx_vnni", "avx_vnni_int8", "avx512f", "avx512bw",
      "avx512dq", "avx512vl", "avx512_vnni", "avx512_bf16", "avx512_fp16", "amx_tile", "amx_int8", "amx_bf16");
  /** ARM features (Linux names): NEON ({@code asimd}), dot product ({@code asimddp}), i8mm, SVE, bf16, fp16, SME. */
  static final Set<String> ARM = Set.of("asimd", "asimddp", "asimdhp", "i8mm", "bf16", "sve", "sve2", "sme");

  private static volatile Platform current;

  private RuntimePlatform() {}

  /** This JVM's platform (computed once). */
  public static Platform current() {
    Platform p = current;
    if (p == null) {
      String cpuinfo = "";
      try {
        Path f = Path.of("/proc/cpuinfo");
        if (Files.isReadable(f)) {
          cpuinfo = Files.readString(f, StandardCharsets.UTF_8);
        }
      } catch (IOException | RuntimeException e) {
        cpuinfo = "";
      }
      String ort;
      try {
        ort = OrtEnvironment.getEnvironment().getVersion();
      } catch (RuntimeException | LinkageError e) {
        ort = "unknown";
      }
      p = parse(System.getProperty("os.arch", "unknown"), cpuinfo, ort);
      current = p;
    }
    return p;
  }

  /** The platform described by {@code os.arch}, the text of {@code /proc/cpuinfo} and an ONNX Runtime version. */
  static Platform parse(String arch, String cpuinfo, String onnxRuntime) {
    List<String> isa = new ArrayList<>();
    for (String line : cpuinfo.split("\n")) {
      int colon = line.indexOf(':');
      if (colon < 0) {
        continue;
      }
      String key = line.substring(0, colon).trim().toLowerCase(Locale.ROOT);
      if (key.equals("flags") || key.equals("features")) {
        for (String f : line.substring(colon + 1).trim().split("\\s+")) {
          String flag = f.toLowerCase(Locale.ROOT);
          if (X86.contains(flag) || ARM.contains(flag) || flag.startsWith("amx_")) {
            isa.add(flag);
          }
        }
        break; // the first processor's line: executors are assumed homogeneous within a machine
      }
    }
    return new Platform(arch, isa, onnxRuntime);
  }
}
