package io.quarry.embed;

import static org.assertj.core.api.Assertions.assertThat;

import io.quarry.core.platform.Platform;
import org.junit.jupiter.api.Test;

class RuntimePlatformTest {
  @Test
  void keepsTheX86FlagsThatSelectKernels() {
    String cpuinfo = "processor\t: 0\nvendor_id\t: AuthenticAMD\nmodel name\t: AMD EPYC\n"
        + "flags\t\t: fpu vme sse sse2 ssse3 fma sse4_1 avx avx2 avx512f avx512dq avx512bw avx512vl avx512_bf16 "
        + "avx512_vnni avx512_vpopcntdq\n\nprocessor\t: 1\nflags\t\t: fpu sse sse2\n";
    Platform p = RuntimePlatform.parse("amd64", cpuinfo, "1.28.0");
    assertThat(p.arch()).isEqualTo("amd64");
    assertThat(p.isa()).containsExactly("avx", "avx2", "avx512_bf16", "avx512_vnni", "avx512bw", "avx512dq",
        "avx512f", "avx512vl", "fma");
    assertThat(p.onnxRuntime()).isEqualTo("1.28.0");
    // AVX2-only (e.g. AMD EPYC Rome/Milan, Intel Haswell): another kind
    Platform avx2 = RuntimePlatform.parse("amd64", "flags : sse4_2 fma avx avx2 amx_tile\n", "1.28.0");
    assertThat(avx2.isa()).containsExactly("amx_tile", "avx", "avx2", "fma");
    assertThat(avx2).isNotEqualTo(p);
  }

  @Test
  void readsArmFeaturesAndToleratesNoCpuinfo() {
    Platform arm = RuntimePlatform.parse("aarch64",
        "processor\t: 0\nBogoMIPS\t: 50.00\nFeatures\t: fp asimd evtstrm aes crc32 asimddp sve i8mm bf16 sve2\n",
        "1.28.0");
    assertThat(arm.isa()).containsExactly("asimd", "asimddp", "bf16", "i8mm", "sve", "sve2");
    Platform mac = RuntimePlatform.parse("aarch64", "", "1.28.0");
    assertThat(mac.isa()).isEmpty();
    assertThat(mac.describe()).isEqualTo("aarch64 [], onnxruntime 1.28.0");
  }

  @Test
  void currentReportsThisJvmAndTheBundledRuntime() {
    Platform p = RuntimePlatform.current();
    assertThat(p.arch()).isEqualTo(System.getProperty("os.arch"));
    assertThat(p.onnxRuntime()).matches("\\d+\\.\\d+\\.\\d+.*"); // the native library's own version
    if (p.arch().equals("amd64") && java.nio.file.Files.isReadable(java.nio.file.Path.of("/proc/cpuinfo"))) {
      assertThat(p.isa()).as("only flags that select kernels")
          .allMatch(f -> RuntimePlatform.X86.contains(f) || f.startsWith("amx_"));
    }
    assertThat(RuntimePlatform.current()).isSameAs(p);
  }
}
