// Prepares benchmark datasets as .fbin files (bench_data.h):
//   prep synth N NQ DIM SEED base.fbin queries.fbin   the clustered generator of SOURCES.md
//   prep idx IMAGES.idx3 out.fbin [LIMIT]             Fashion-MNIST (uncompressed idx3) as float32

#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <string>

#include "bench/bench_data.h"

namespace {
uint32_t BigEndian(const unsigned char* p) {
  return (uint32_t{p[0]} << 24) | (uint32_t{p[1]} << 16) | (uint32_t{p[2]} << 8) | p[3];
}
}  // namespace

int main(int argc, char** argv) {
  const std::string mode = argc > 1 ? argv[1] : "";
  if (mode == "synth" && argc == 8) {
    bench::Matrix base, queries;
    bench::MakeClustered(static_cast<uint32_t>(std::atoi(argv[2])),
                         static_cast<uint32_t>(std::atoi(argv[3])),
                         static_cast<uint32_t>(std::atoi(argv[4])),
                         static_cast<uint32_t>(std::atoi(argv[5])), &base, &queries);
    bench::WriteFbin(argv[6], base);
    bench::WriteFbin(argv[7], queries);
    return 0;
  }
  if (mode == "idx" && (argc == 4 || argc == 5)) {
    std::ifstream in(argv[2], std::ios::binary);
    unsigned char header[16];
    if (!in.read(reinterpret_cast<char*>(header), 16) || BigEndian(header) != 2051) {
      std::fprintf(stderr, "prep: %s is not an idx3 image file\n", argv[2]);
      return 1;
    }
    uint32_t n = BigEndian(header + 4);
    const uint32_t dim = BigEndian(header + 8) * BigEndian(header + 12);
    if (argc == 5)
      n = std::min<uint32_t>(n, static_cast<uint32_t>(std::atoi(argv[4])));
    bench::Matrix m;
    m.n = n;
    m.dim = dim;
    std::vector<unsigned char> pixels(size_t{n} * dim);
    in.read(reinterpret_cast<char*>(pixels.data()), static_cast<std::streamsize>(pixels.size()));
    m.data.assign(pixels.begin(), pixels.end());
    bench::WriteFbin(argv[3], m);
    return 0;
  }
  std::fprintf(stderr,
               "usage: prep synth N NQ DIM SEED base.fbin queries.fbin\n"
               "       prep idx IMAGES.idx3 out.fbin [LIMIT]\n");
  return 2;
}
