package io.quarry.core.search;

import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/** Per-request stage scores, ranks and timings of a {@link HybridSearcher} search. */
final class SearchTrace {
  final Map<Long, Map<String, HybridSearcher.StageScore>> stages = new HashMap<>();
  final Map<String, Long> nanos = new LinkedHashMap<>();
  long t = System.nanoTime();

  void record(String stage, List<ScoredChunk> ranking) {
    for (int i = 0; i < ranking.size(); i++) {
      ScoredChunk c = ranking.get(i);
      stages.computeIfAbsent(c.key(), x -> new LinkedHashMap<>())
          .put(stage, new HybridSearcher.StageScore(c.score(), i + 1));
    }
  }

  void lap(String stage) {
    long t1 = System.nanoTime();
    nanos.merge(stage, t1 - t, Long::sum);
    t = t1;
  }

  Map<String, HybridSearcher.StageScore> stagesOf(long key) {
    Map<String, HybridSearcher.StageScore> m = stages.get(key);
    return m == null ? Map.of() : m;
  }
}
