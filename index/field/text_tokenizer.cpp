#include "index/field/text_tokenizer.h"

#include <libstemmer.h>
#include <unicode/brkiter.h>
#include <unicode/translit.h>
#include <unicode/uchar.h>
#include <unicode/unistr.h>
#include <unicode/utf8.h>

namespace tessera::index {

struct TextTokenizer::Icu {
  std::unique_ptr<icu::Transliterator> fold;  // Latin-ASCII, when ascii_folding
  std::unique_ptr<icu::BreakIterator> words;  // multilingual segmentation
};

namespace {

// Rust's char::is_alphanumeric: Alphabetic, or a number (Nd, Nl, No).
bool IsAlphanumeric(UChar32 c) {
  if (u_hasBinaryProperty(c, UCHAR_ALPHABETIC)) {
    return true;
  }
  const int8_t type = u_charType(c);
  return type == U_DECIMAL_DIGIT_NUMBER || type == U_LETTER_NUMBER || type == U_OTHER_NUMBER;
}

// Splits `text` into the runs of code points for which `keep` holds.
template <typename Keep>
std::vector<std::string_view> Runs(std::string_view text, Keep keep) {
  std::vector<std::string_view> out;
  const auto* s = reinterpret_cast<const uint8_t*>(text.data());
  const auto n = static_cast<int32_t>(text.size());
  int32_t start = -1;
  for (int32_t i = 0; i < n;) {
    const int32_t at = i;
    UChar32 c;
    U8_NEXT(s, i, n, c);
    const bool in = c >= 0 && keep(c);
    if (in && start < 0) {
      start = at;
    } else if (!in && start >= 0) {
      out.push_back(text.substr(static_cast<size_t>(start), static_cast<size_t>(at - start)));
      start = -1;
    }
  }
  if (start >= 0) {
    out.push_back(text.substr(static_cast<size_t>(start)));
  }
  return out;
}

size_t CodePoints(std::string_view s) {
  size_t n = 0;
  for (const char c : s) {
    n += (static_cast<unsigned char>(c) & 0xC0) != 0x80;
  }
  return n;
}

// The first `chars` code points of `s` (all of it when shorter).
std::string_view FirstChars(std::string_view s, size_t chars) {
  size_t seen = 0;
  for (size_t i = 0; i < s.size(); ++i) {
    if ((static_cast<unsigned char>(s[i]) & 0xC0) != 0x80) {
      if (seen == chars) {
        return s.substr(0, i);
      }
      ++seen;
    }
  }
  return s;
}

std::string Lower(std::string_view s) {
  icu::UnicodeString u = icu::UnicodeString::fromUTF8(icu::StringPiece(s.data(), static_cast<int32_t>(s.size())));
  u.toLower(icu::Locale::getRoot());
  std::string out;
  u.toUTF8String(out);
  return out;
}

}  // namespace

TextTokenizer::TextTokenizer(TextTokenizerParams params)
    : params_(std::move(params)), icu_(std::make_unique<Icu>()) {
  for (const std::string& w : params_.stopwords) {
    stopwords_.insert(params_.lowercase ? Lower(w) : w);
  }
}

TextTokenizer::~TextTokenizer() {
  if (stemmer_ != nullptr) {
    sb_stemmer_delete(stemmer_);
  }
}

Result<std::shared_ptr<const TextTokenizer>> TextTokenizer::Create(
    const TextTokenizerParams& params) {
  std::shared_ptr<TextTokenizer> t(new TextTokenizer(params));
  if (!params.stemmer_language.empty()) {
    t->stemmer_ = sb_stemmer_new(params.stemmer_language.c_str(), "UTF_8");
    if (t->stemmer_ == nullptr) {
      return Status::InvalidArgument("no Snowball stemmer for `" + params.stemmer_language + "`");
    }
  }
  UErrorCode status = U_ZERO_ERROR;
  if (params.ascii_folding) {
    t->icu_->fold.reset(icu::Transliterator::createInstance("Latin-ASCII", UTRANS_FORWARD, status));
    if (U_FAILURE(status) || t->icu_->fold == nullptr) {
      return Status::Internal(std::string("ICU Latin-ASCII transliterator: ") + u_errorName(status));
    }
  }
  if (params.kind == TextTokenizerParams::Kind::kMultilingual) {
    status = U_ZERO_ERROR;
    t->icu_->words.reset(icu::BreakIterator::createWordInstance(icu::Locale::getRoot(), status));
    if (U_FAILURE(status) || t->icu_->words == nullptr) {
      return Status::Internal(std::string("ICU word break iterator: ") + u_errorName(status));
    }
  }
  return std::shared_ptr<const TextTokenizer>(std::move(t));
}

std::optional<std::string> TextTokenizer::Process(std::string_view raw, bool check_max_len,
                                                  bool check_stopword) const {
  if (raw.empty()) {
    return std::nullopt;
  }
  std::string token(raw);
  if (params_.ascii_folding) {
    icu::UnicodeString u = icu::UnicodeString::fromUTF8(token);
    {
      std::lock_guard lock(mu_);
      icu_->fold->transliterate(u);
    }
    token.clear();
    u.toUTF8String(token);
  }
  if (params_.lowercase) {
    token = Lower(token);
  }
  if (check_stopword && stopwords_.contains(token)) {
    return std::nullopt;
  }
  if (stemmer_ != nullptr) {
    std::lock_guard lock(mu_);
    const sb_symbol* stemmed = sb_stemmer_stem(
        stemmer_, reinterpret_cast<const sb_symbol*>(token.data()), static_cast<int>(token.size()));
    if (stemmed != nullptr) {
      token.assign(reinterpret_cast<const char*>(stemmed),
                   static_cast<size_t>(sb_stemmer_length(stemmer_)));
    }
  }
  const size_t chars = CodePoints(token);
  if ((params_.min_token_len && chars < *params_.min_token_len) ||
      (check_max_len && params_.max_token_len && chars > *params_.max_token_len)) {
    return std::nullopt;
  }
  return token;
}

std::vector<std::string> TextTokenizer::Tokenize(std::string_view text, Kind kind) const {
  std::vector<std::string> out;
  using K = TextTokenizerParams::Kind;
  switch (params_.kind) {
    case K::kWhitespace:
      for (std::string_view w : Runs(text, [](UChar32 c) { return !u_isUWhiteSpace(c); })) {
        if (auto t = Process(w, true, true)) out.push_back(std::move(*t));
      }
      return out;
    case K::kWord:
      for (std::string_view w : Runs(text, IsAlphanumeric)) {
        if (auto t = Process(w, true, true)) out.push_back(std::move(*t));
      }
      return out;
    case K::kMultilingual: {
      icu::UnicodeString u =
          icu::UnicodeString::fromUTF8(icu::StringPiece(text.data(), static_cast<int32_t>(text.size())));
      std::vector<std::string> segments;
      {
        std::lock_guard lock(mu_);
        icu::BreakIterator& words = *icu_->words;
        words.setText(u);
        for (int32_t start = words.first(), end = words.next(); end != icu::BreakIterator::DONE;
             start = end, end = words.next()) {
          if (words.getRuleStatus() == UBRK_WORD_NONE) {
            continue;  // spaces and punctuation
          }
          std::string segment;
          u.tempSubStringBetween(start, end).toUTF8String(segment);
          segments.push_back(std::move(segment));
        }
      }
      for (const std::string& w : segments) {
        if (auto t = Process(w, true, true)) out.push_back(std::move(*t));
      }
      return out;
    }
    case K::kPrefix: {
      const size_t min_n = params_.min_token_len.value_or(1);
      const size_t max_n = params_.max_token_len.value_or(SIZE_MAX);
      for (std::string_view w : Runs(text, IsAlphanumeric)) {
        if (kind == Kind::kQuery) {
          // Each query word once, cut to max_token_len; no stopwords (a partial word may be one).
          std::optional<std::string> t = Process(w, false, false);
          if (t) out.emplace_back(FirstChars(*t, max_n));
          continue;
        }
        std::optional<std::string> t = Process(w, false, true);
        if (!t) continue;
        const size_t chars = CodePoints(*t);
        for (size_t n = min_n; n <= max_n; ++n) {
          if (n >= chars) {
            out.push_back(*t);
            break;
          }
          out.emplace_back(FirstChars(*t, n));
        }
      }
      return out;
    }
  }
  return out;
}

}  // namespace tessera::index
