package io.quarry.core.chunk;

import java.text.BreakIterator;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Structure-aware chunking, in the spirit of LangChain's {@code RecursiveCharacterTextSplitter} but measured in model
 * tokens: the text is split into paragraphs (blank lines); a paragraph longer than {@code maxTokens} into sentences
 * ({@link BreakIterator}, root locale); a sentence still too long into token windows of
 * {@code maxTokens - overlapTokens}. These units are then merged greedily, in order, into chunks of at most
 * {@code maxTokens} tokens. Each chunk after the first starts with up to {@code overlapTokens} tokens of the
 * previous one: whole trailing units of the previous chunk when they fit, else its last {@code overlapTokens} tokens.
 *
 * <p>Every chunk is an exact substring of the document (from its first token's first character to its last token's
 * last character) and the output is deterministic.
 */
public final class RecursiveChunker implements Chunker {
  private static final Pattern PARAGRAPH_BREAK = Pattern.compile("\\n[ \\t\\x0B\\f\\r]*\\n\\s*");

  private final Tokenizer tokenizer;
  private final int maxTokens;
  private final int overlapTokens;

  /**
   * @param tokenizer the embedding model's tokenizer
   * @param maxTokens maximum tokens per chunk, special tokens excluded (&gt; 0)
   * @param overlapTokens maximum tokens shared by consecutive chunks (0 &le; overlap &lt; maxTokens)
   * @throws IllegalArgumentException if the bounds do not hold
   */
  public RecursiveChunker(Tokenizer tokenizer, int maxTokens, int overlapTokens) {
    Chunker.checkBounds(maxTokens, overlapTokens);
    this.tokenizer = tokenizer;
    this.maxTokens = maxTokens;
    this.overlapTokens = overlapTokens;
  }

  @Override
  public List<Chunk> chunk(String docId, String title, String text) {
    TokenSpans spans = tokenizer.tokenize(text);
    int n = spans.size();
    List<Chunk> out = new ArrayList<>();
    if (n == 0) {
      return out;
    }
    List<int[]> units = units(text, spans);
    int i = 0;
    int start = units.get(0)[0];
    while (i < units.size()) {
      int end = units.get(i)[1];
      i++;
      while (i < units.size() && units.get(i)[1] - start <= maxTokens) {
        end = units.get(i)[1];
        i++;
      }
      out.add(TokenWindowChunker.make(docId, title, text, spans, out.size(), start, end));
      if (i == units.size()) {
        break;
      }
      start = nextStart(units, i, start, end);
    }
    return out;
  }

  /** Start token of the chunk after {@code [start, end)}, whose first new unit is {@code units[i]}. */
  private int nextStart(List<int[]> units, int i, int start, int end) {
    if (overlapTokens == 0) {
      return end;
    }
    int next = end;
    // whole trailing units of the previous chunk, as long as they fit in the overlap
    for (int j = i - 1; j >= 0 && units.get(j)[0] > start && end - units.get(j)[0] <= overlapTokens; j--) {
      next = units.get(j)[0];
    }
    if (next == end) {
      next = Math.max(start + 1, end - overlapTokens);
    }
    // the next unit must still fit in one chunk with the overlap
    return Math.max(next, units.get(i)[1] - maxTokens);
  }

  /** Token ranges {@code [from, to)} of at most maxTokens (maxTokens - overlap for cut sentences), covering 0..n. */
  private List<int[]> units(String text, TokenSpans spans) {
    List<int[]> units = new ArrayList<>();
    List<Integer> paragraphStarts = new ArrayList<>();
    Matcher m = PARAGRAPH_BREAK.matcher(text);
    while (m.find()) {
      paragraphStarts.add(m.end());
    }
    for (int[] p : split(spans, 0, spans.size(), paragraphStarts)) {
      if (p[1] - p[0] <= maxTokens) {
        units.add(p);
        continue;
      }
      for (int[] s : split(spans, p[0], p[1], sentenceStarts(text, spans, p))) {
        if (s[1] - s[0] <= maxTokens) {
          units.add(s);
          continue;
        }
        int w = maxTokens - overlapTokens;
        for (int a = s[0]; a < s[1]; a += w) {
          units.add(new int[] {a, Math.min(s[1], a + w)});
        }
      }
    }
    return units;
  }

  private static List<Integer> sentenceStarts(String text, TokenSpans spans, int[] range) {
    int a = spans.start(range[0]);
    int b = spans.end(range[1] - 1);
    BreakIterator it = BreakIterator.getSentenceInstance(Locale.ROOT);
    it.setText(text.substring(a, b));
    List<Integer> starts = new ArrayList<>();
    for (int pos = it.next(); pos != BreakIterator.DONE; pos = it.next()) {
      starts.add(a + pos);
    }
    return starts;
  }

  /** Splits tokens {@code [from, to)} at the first token starting at or after each char offset in {@code cuts}. */
  private static List<int[]> split(TokenSpans spans, int from, int to, List<Integer> cuts) {
    List<int[]> out = new ArrayList<>();
    int prev = from;
    for (int c : cuts) {
      int t = firstTokenStartingAtOrAfter(spans, c, from, to);
      if (t > prev && t < to) {
        out.add(new int[] {prev, t});
        prev = t;
      }
    }
    out.add(new int[] {prev, to});
    return out;
  }

  private static int firstTokenStartingAtOrAfter(TokenSpans spans, int charOffset, int from, int to) {
    int lo = from;
    int hi = to;
    while (lo < hi) {
      int mid = (lo + hi) >>> 1;
      if (spans.start(mid) < charOffset) {
        lo = mid + 1;
      } else {
        hi = mid;
      }
    }
    return lo;
  }
}
