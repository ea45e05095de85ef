package io.quarry.jobs.build;

import io.quarry.core.segment.IndexManifest;
import io.quarry.jobs.JobContext;
import io.quarry.jobs.JobSummary;
import io.quarry.jobs.StageJob;
import java.nio.file.Path;

/**
 * {@code quarry publish --set segments.version=<id>}: validates an already built version the way readers open it
 * (manifest, every file's size + SHA-256, segment CRC32s, Lucene) and only then points {@code <paths.index>/CURRENT}
 * at it. Used after a gate (Airflow's {@code publish} task) for versions built with {@code segments.publish=false},
 * and to roll {@code CURRENT} back to an older version. A version that fails validation leaves {@code CURRENT}
 * untouched and the command fails naming the bad file.
 */
public final class PublishJob implements StageJob {
  @Override
  public String name() {
    return "publish";
  }

  @Override
  public JobSummary run(JobContext ctx) throws Exception {
    String version = ctx.config().segments().version();
    if (version == null || version.isEmpty()) {
      throw new IllegalArgumentException("publish: set segments.version to the version to publish");
    }
    String previous = null;
    if (ctx.exists(PublishedIndex.child(ctx.config().paths().indexDir(), IndexManifest.CURRENT))) {
      previous = PublishedIndex.current(ctx);
    }
    Path local = PublishedIndex.localCopy(ctx, version);
    IndexManifest m = PublishedIndex.validate(local);
    if (!version.equals(m.version())) {
      throw new IllegalStateException("publish: " + local + "/manifest.json names version '" + m.version()
          + "', not '" + version + "'");
    }
    PublishedIndex.publish(ctx, version);
    return new JobSummary(name()).put("version", version).put("previous", previous)
        .put("indexDir", ctx.config().paths().indexDir()).put("chunks", m.chunks()).put("shards", m.shards().size());
  }
}
