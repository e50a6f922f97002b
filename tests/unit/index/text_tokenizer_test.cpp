// The full-text tokenizer against Qdrant's tokenizer rules (tokenizers/mod.rs and
// tokens_processor.rs): splitting, lower-casing, folding, stopwords, stemming, lengths, and the
// prefix tokenizer's document and query forms.

#include "index/field/text_tokenizer.h"

#include <gtest/gtest.h>

namespace tessera::index {
namespace {

using Strings = std::vector<std::string>;
using K = TextTokenizerParams::Kind;

Strings Doc(const TextTokenizerParams& p, std::string_view text) {
  auto t = TextTokenizer::Create(p);
  EXPECT_TRUE(t.ok()) << t.status().ToString();
  return (*t)->Tokenize(text, TextTokenizer::Kind::kDocument);
}
Strings Query(const TextTokenizerParams& p, std::string_view text) {
  return (*TextTokenizer::Create(p))->Tokenize(text, TextTokenizer::Kind::kQuery);
}

TEST(TextTokenizerTest, WordSplitsAtEveryNonAlphanumericAndLowercases) {
  TextTokenizerParams p;
  EXPECT_EQ(Doc(p, "hello, world! Привет, мир!"), (Strings{"hello", "world", "привет", "мир"}));
  EXPECT_EQ(Doc(p, "w1 w10 x_y 3.5"), (Strings{"w1", "w10", "x", "y", "3", "5"}));
  EXPECT_EQ(Doc(p, "ΣΟΦΟΣ"), (Strings{"σοφος"}));  // final sigma
  p.lowercase = false;
  EXPECT_EQ(Doc(p, "Hello World"), (Strings{"Hello", "World"}));
  EXPECT_EQ(Doc(p, ""), Strings{});
}

TEST(TextTokenizerTest, WhitespaceKeepsPunctuation) {
  TextTokenizerParams p;
  p.kind = K::kWhitespace;
  EXPECT_EQ(Doc(p, "hello, world!\tnew\u00a0line"), (Strings{"hello,", "world!", "new", "line"}));
}

TEST(TextTokenizerTest, LengthsStopwordsStemmingFolding) {
  TextTokenizerParams p;
  p.min_token_len = 2;
  p.max_token_len = 5;
  EXPECT_EQ(Doc(p, "a bb cccccc dd"), (Strings{"bb", "dd"}));
  TextTokenizerParams s;
  s.stopwords = {"The", "of"};
  EXPECT_EQ(Doc(s, "The tale OF two"), (Strings{"tale", "two"}));
  TextTokenizerParams st;
  st.stemmer_language = "english";
  EXPECT_EQ(Doc(st, "Running runners ran"), (Strings{"run", "runner", "ran"}));
  TextTokenizerParams f;
  f.ascii_folding = true;
  EXPECT_EQ(Doc(f, "Ação Crème Straße"), (Strings{"acao", "creme", "strasse"}));
  TextTokenizerParams bad;
  bad.stemmer_language = "klingon";
  EXPECT_FALSE(TextTokenizer::Create(bad).ok());
}

TEST(TextTokenizerTest, PrefixIndexesPrefixesAndQueriesWholeWords) {
  TextTokenizerParams p;
  p.kind = K::kPrefix;
  p.min_token_len = 2;
  p.max_token_len = 4;
  EXPECT_EQ(Doc(p, "Hello ab x"), (Strings{"he", "hel", "hell", "ab"}));
  EXPECT_EQ(Query(p, "HEL x hello"), (Strings{"hel", "hell"}));  // x is too short; cut to 4
  p.stopwords = {"the"};
  EXPECT_EQ(Query(p, "the"), (Strings{"the"}));  // no stopwords in a prefix query
}

TEST(TextTokenizerTest, MultilingualSegmentsWithoutSpaces) {
  TextTokenizerParams p;
  p.kind = K::kMultilingual;
  const Strings latin = Doc(p, "Hello, World!");
  EXPECT_EQ(latin, (Strings{"hello", "world"}));
  const Strings japanese = Doc(p, "東京都に住んでいます");
  EXPECT_GT(japanese.size(), 1u);  // dictionary segmentation, not one run
  std::string joined;
  for (const std::string& t : japanese) joined += t;
  EXPECT_EQ(joined, "東京都に住んでいます");
}

}  // namespace
}  // namespace tessera::index
