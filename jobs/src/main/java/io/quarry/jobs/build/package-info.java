/**
 * Stage 4 on Spark: {@link io.quarry.jobs.build.BuildIndexJob} (encode, shard, write the shards, manifest last,
 * validate, publish), {@link io.quarry.jobs.build.PublishJob} ({@code quarry publish}) and
 * {@link io.quarry.jobs.build.PublishedIndex} (CURRENT, local copies of versions for the Spark-free readers).
 */
package io.quarry.jobs.build;
