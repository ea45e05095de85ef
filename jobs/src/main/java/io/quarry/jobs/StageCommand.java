package io.quarry.jobs;

import io.quarry.jobs.chunk.ChunkJob;
import io.quarry.jobs.embed.EmbedJob;
import io.quarry.jobs.eval.EvaluateJob;
import io.quarry.jobs.train.TrainQuantizerJob;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * A subcommand that runs a fixed list of stages in one Spark session ({@link QuarryCli#runStages}); the single-stage
 * commands are nested here.
 */
abstract class StageCommand implements Callable<Integer> {
  @CommandLine.Mixin QuarryCli.ConfigOptions opts = new QuarryCli.ConfigOptions();

  abstract List<StageJob> stages();

  @Override
  public Integer call() throws Exception {
    return QuarryCli.runStages(opts, stages());
  }

  @Command(name = "chunk", mixinStandardHelpOptions = true,
      description = "Read the corpus and cut documents into token windows (chunks).")
  static final class Chunk extends StageCommand {
    @Override
    List<StageJob> stages() {
      return List.of(new ChunkJob());
    }
  }

  @Command(name = "embed", mixinStandardHelpOptions = true,
      description = "Embed chunks with ONNX Runtime inside the executors.")
  static final class Embed extends StageCommand {
    @Override
    List<StageJob> stages() {
      return List.of(new EmbedJob());
    }
  }

  @Command(name = "train", mixinStandardHelpOptions = true,
      description = "Train the quantizer (OPQ, IVF, residual PQ) with Spark MLlib k-means.")
  static final class Train extends StageCommand {
    @Override
    List<StageJob> stages() {
      return List.of(new TrainQuantizerJob());
    }
  }

  @Command(name = "evaluate", mixinStandardHelpOptions = true,
      description = "Search the labeled queries and write metrics, runs and a report.")
  static final class Evaluate extends StageCommand {
    @Override
    List<StageJob> stages() {
      return List.of(new EvaluateJob());
    }
  }

  @Command(name = "tune", mixinStandardHelpOptions = true,
      description = "Choose the hybrid fusion, candidate depth and nprobe on training qrels "
      + "(tuning.qrels) and write them into the index version's manifest.")
  static final class Tune extends StageCommand {
    @Option(names = "--if-configured", description = "Skip (exit 0, with a note) when tuning.qrels is not set, "
        + "instead of failing: for schedulers that run the same task for every config.")
    boolean ifConfigured;

    @Override
    List<StageJob> stages() {
      return List.of(new io.quarry.jobs.eval.TuneJob(ifConfigured));
    }
  }

  @Command(name = "bench-embed", mixinStandardHelpOptions = true,
      description = "Embed throughput of the embed job vs raw ONNX Runtime (same model, "
      + "batch size, threads), on the chunks of the chunk stage; see docs/benchmarks.md.")
  static final class BenchEmbed extends StageCommand {
    @Option(names = "--limit", description = "Chunks to embed: the first N by chunk id (0 = all).",
        defaultValue = "0", paramLabel = "N")
    int limit;

    @Override
    List<StageJob> stages() {
      return List.of(new io.quarry.jobs.embed.EmbedBenchmark(limit));
    }
  }

  @Command(name = "export-ann", mixinStandardHelpOptions = true,
      description = "Write the embeddings and the embedded evaluation queries as a TEXMEX "
      + "ANN data set (base/query .fvecs, exact inner-product ground truth .ivecs) for bench-ann and FAISS.")
  static final class ExportAnn extends StageCommand {
    @Option(names = "--out", required = true, description = "Local output directory.", paramLabel = "DIR")
    java.nio.file.Path out;

    @Option(names = "--name", defaultValue = "quarry", description = "File name prefix (default: ${DEFAULT-VALUE}).")
    String name;

    @Option(names = "--k", defaultValue = "100", description = "Ground-truth neighbours per query (default: "
        + "${DEFAULT-VALUE}).")
    int k;

    @Override
    List<StageJob> stages() {
      return List.of(new io.quarry.jobs.eval.ExportAnnJob(out, name, k));
    }
  }

  @Command(name = "publish", mixinStandardHelpOptions = true,
      description = "Validate the index version segments.version and point CURRENT at it.")
  static final class Publish extends StageCommand {
    @Override
    List<StageJob> stages() {
      return List.of(new io.quarry.jobs.build.PublishJob());
    }
  }
}
