// tessera: the server binary. Parses options, listens, loads storage in the background
// (/readyz answers 503 until it has), serves until SIGINT or SIGTERM, then stops gracefully:
// in-flight requests are answered, and storage is closed after the last one.

#include <atomic>
#include <cstdio>
#include <ctime>
#include <memory>
#include <signal.h>
#include <string>
#include <thread>
#include <vector>

#include "api/options.h"
#include "api/routes.h"
#include "api/server.h"
#include "common/logging.h"
#include "common/memory.h"
#include "engine/catalog.h"

#ifndef TESSERA_COMMIT
#define TESSERA_COMMIT "unknown"
#endif

namespace {
// Set by the handler when a stop signal reaches a thread that does not block it (a thread a
// library started before main blocked the signals, e.g. a sanitizer's); the waiter polls it.
std::atomic<int> g_stray_signal{0};
void OnStopSignal(int sig) {
  g_stray_signal.store(sig);
}
}  // namespace

int main(int argc, char** argv) {
  using namespace tessera;
  std::vector<std::string> args(argv + 1, argv + argc);
  Result<api::ServerOptions> parsed = api::ParseOptions(args, api::ProcessEnv());
  if (!parsed.ok()) {
    if (parsed.status().code() == Code::kFailedPrecondition) {  // --help
      std::fputs(parsed.status().message().c_str(), stdout);
      return 0;
    }
    std::fprintf(stderr, "tessera: %s\n", parsed.status().message().c_str());
    return 2;
  }
  const api::ServerOptions& options = *parsed;
  SetLogLevel(options.log_level);
  ConfigureAllocator(std::max<size_t>(options.threads, 2));

  // Signals are taken by one thread with sigtimedwait; every other thread has them blocked.
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGINT);
  sigaddset(&signals, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);
  struct sigaction action {};
  action.sa_handler = OnStopSignal;
  sigemptyset(&action.sa_mask);
  sigaction(SIGINT, &action, nullptr);
  sigaction(SIGTERM, &action, nullptr);
  signal(SIGPIPE, SIG_IGN);

  api::Api api(options);
  Result<std::unique_ptr<api::Server>> server = api::Server::Create(options, api);
  if (!server.ok()) {
    TESSERA_LOG(kError) << server.status().message();
    return 1;
  }
  // The startup banner: version, where data lives, where we listen, and every setting in effect.
  TESSERA_LOG(kInfo) << "tessera " << TESSERA_API_VERSION << " (commit " << TESSERA_COMMIT
                     << ") listening on http://" << options.host << ":" << (*server)->port()
                     << " with " << options.threads << " threads; storage " << options.storage_path
                     << ", snapshots " << options.snapshots_path << ", config file "
                     << (options.config_file ? options.config_file->string() : "(none)");
  for (const std::string& line : api::EffectiveConfig(options)) {
    TESSERA_LOG(kInfo) << "config " << line;
  }
  for (const std::string& warning : options.warnings) {
    TESSERA_LOG(kWarn) << warning;
  }

  int exit_code = 0;
  std::unique_ptr<engine::Catalog> catalog;
  std::jthread loader([&] {
    Result<std::unique_ptr<engine::Catalog>> opened =
        engine::Catalog::Open(options.storage_path, options.collection_options);
    if (!opened.ok()) {
      TESSERA_LOG(kError) << "cannot open storage: " << opened.status().ToString();
      exit_code = 1;
      (*server)->Stop();
      return;
    }
    catalog = std::move(opened).value();
    api.SetCatalog(catalog.get());
    TESSERA_LOG(kInfo) << "storage loaded: " << catalog->ListCollections().size()
                       << " collections; ready";
  });
  std::jthread signal_waiter([&](std::stop_token stop) {
    while (!stop.stop_requested()) {
      timespec timeout{0, 200 * 1000 * 1000};
      int sig = sigtimedwait(&signals, nullptr, &timeout);
      if (sig <= 0) {
        sig = g_stray_signal.load();
      }
      if (sig > 0) {
        TESSERA_LOG(kInfo) << "received " << (sig == SIGINT ? "SIGINT" : "SIGTERM")
                           << ", shutting down";
        (*server)->Stop();
        return;
      }
    }
  });

  (*server)->Run();
  loader.join();
  signal_waiter.request_stop();
  signal_waiter.join();
  server->reset();
  catalog.reset();
  TESSERA_LOG(kInfo) << "stopped";
  return exit_code;
}
