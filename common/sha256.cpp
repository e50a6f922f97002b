#include "common/sha256.h"

#include <cerrno>
#include <fcntl.h>
#include <memory>
#include <openssl/evp.h>
#include <unistd.h>
#include <vector>

#include "common/file.h"

namespace tessera {

namespace {

struct CtxDeleter {
  void operator()(EVP_MD_CTX* ctx) const { EVP_MD_CTX_free(ctx); }
};
using Ctx = std::unique_ptr<EVP_MD_CTX, CtxDeleter>;

Ctx NewCtx() {
  Ctx ctx(EVP_MD_CTX_new());
  if (ctx == nullptr || EVP_DigestInit_ex(ctx.get(), EVP_sha256(), nullptr) != 1) {
    std::abort();  // out of memory or a broken libcrypto: nothing sensible to do
  }
  return ctx;
}

std::string Finish(EVP_MD_CTX* ctx) {
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int size = 0;
  EVP_DigestFinal_ex(ctx, digest, &size);
  static constexpr char kHex[] = "0123456789abcdef";
  std::string hex;
  hex.reserve(size * 2);
  for (unsigned int i = 0; i < size; ++i) {
    hex += kHex[digest[i] >> 4];
    hex += kHex[digest[i] & 15];
  }
  return hex;
}

}  // namespace

std::string Sha256Hex(std::string_view data) {
  Ctx ctx = NewCtx();
  EVP_DigestUpdate(ctx.get(), data.data(), data.size());
  return Finish(ctx.get());
}

Result<std::string> Sha256FileHex(const std::filesystem::path& path) {
  TESSERA_ASSIGN_OR_RETURN(File file, File::Open(path, O_RDONLY));
  TESSERA_ASSIGN_OR_RETURN(uint64_t size, file.Size());
  Ctx ctx = NewCtx();
  constexpr uint64_t kChunk = 1 << 20;
  for (uint64_t offset = 0; offset < size; offset += kChunk) {
    TESSERA_ASSIGN_OR_RETURN(
        std::string chunk,
        file.ReadAt(offset, static_cast<size_t>(std::min(kChunk, size - offset))));
    EVP_DigestUpdate(ctx.get(), chunk.data(), chunk.size());
  }
  return Finish(ctx.get());
}

}  // namespace tessera
