#pragma once

// The tokens of a full-text index (Qdrant's TextIndexParams): how a payload string and a
// `match.text` / `text_any` / `phrase` query become tokens.
//   word:         split at every character that is not a Unicode letter or number
//   whitespace:   split at Unicode white space
//   prefix:       word tokens, and as a document every prefix of each from min_token_len
//                 (default 1) up to max_token_len; as a query each word once (cut to
//                 max_token_len), so "hel" matches "hello"
//   multilingual: ICU's word boundaries (dictionary-based for Chinese, Japanese, Thai...),
//                 keeping the segments that hold a letter or number
// Each token then: ASCII-folded (ICU Latin-ASCII) when `ascii_folding`, lower-cased (full
// Unicode mapping) when `lowercase` (the default), dropped when a stopword, stemmed (Snowball,
// libstemmer) when a `stemmer` language is set, dropped when shorter than `min_token_len` or
// (except prefix documents) longer than `max_token_len` characters. Qdrant's order of steps.
//
// Thread-safety: Tokenize may be called from any thread (the stemmer and transliterator,
// which keep state, are behind a mutex).

#include <cstddef>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"

struct sb_stemmer;  // libstemmer's

namespace tessera::index {

struct TextTokenizerParams {
  enum class Kind { kWord, kWhitespace, kPrefix, kMultilingual };
  Kind kind = Kind::kWord;
  bool lowercase = true;
  bool ascii_folding = false;
  std::optional<size_t> min_token_len, max_token_len;
  std::set<std::string> stopwords;  // as given; compared after lower-casing when `lowercase`
  std::string stemmer_language;     // a Snowball language ("english"), or empty
  bool phrase_matching = false;
  bool operator==(const TextTokenizerParams&) const = default;
};

class TextTokenizer {
 public:
  // InvalidArgument for a stemmer language libstemmer does not have.
  static Result<std::shared_ptr<const TextTokenizer>> Create(const TextTokenizerParams& params);
  ~TextTokenizer();

  enum class Kind { kDocument, kQuery };
  // The tokens of `text` in order (repeats kept: phrases need positions).
  std::vector<std::string> Tokenize(std::string_view text, Kind kind) const;

  const TextTokenizerParams& params() const { return params_; }

 private:
  explicit TextTokenizer(TextTokenizerParams params);
  // The steps after splitting; nullopt when the token is dropped.
  std::optional<std::string> Process(std::string_view raw, bool check_max_len,
                                     bool check_stopword) const;

  struct Icu;
  TextTokenizerParams params_;
  std::set<std::string> stopwords_;  // lower-cased when params_.lowercase
  mutable std::mutex mu_;            // guards the stemmer and the transliterator
  ::sb_stemmer* stemmer_ = nullptr;
  std::unique_ptr<Icu> icu_;
};

}  // namespace tessera::index
