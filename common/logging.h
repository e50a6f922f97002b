#pragma once

// Minimal leveled logging to stderr: one line per event, with a UTC timestamp and level.
// Thread-safe: each line is written with a single write(2).

#include <sstream>
#include <string_view>

namespace tessera {

enum class LogLevel : int { kDebug = 0, kInfo = 1, kWarn = 2, kError = 3 };

void SetLogLevel(LogLevel level);
LogLevel GetLogLevel();
// Parses "debug", "info", "warn"/"warning", "error" (case-insensitive); false if unknown.
bool ParseLogLevel(std::string_view text, LogLevel* level);
void LogLine(LogLevel level, std::string_view message);

namespace internal {
class LogMessage {
 public:
  explicit LogMessage(LogLevel level) : level_(level) {}
  ~LogMessage() { LogLine(level_, stream_.str()); }
  std::ostringstream& stream() { return stream_; }

 private:
  LogLevel level_;
  std::ostringstream stream_;
};
}  // namespace internal

}  // namespace tessera

// Usage: TESSERA_LOG(kInfo) << "opened " << path;  The message is built only if enabled.
#define TESSERA_LOG(level)                                     \
  if (::tessera::LogLevel::level < ::tessera::GetLogLevel()) { \
  } else                                                       \
    ::tessera::internal::LogMessage(::tessera::LogLevel::level).stream()
