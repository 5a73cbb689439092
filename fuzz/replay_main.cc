// Replays files (or every file under folders) through a fuzz harness when the build has no
// libFuzzer (g++). It also feeds each file's truncations, so a plain build exercises the
// parsers on hostile input in `make check`.
#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <vector>

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, std::size_t size);

namespace {
constexpr std::uintmax_t kMaxFileLen = 1 << 20;

std::size_t RunFile(const std::filesystem::path& path) {
  std::error_code ec;
  if (std::filesystem::file_size(path, ec) > kMaxFileLen || ec) return 0;
  std::ifstream in(path, std::ios::binary);
  std::vector<uint8_t> data((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  LLVMFuzzerTestOneInput(data.data(), data.size());
  for (std::size_t cut : {data.size() / 2, data.size() > 0 ? data.size() - 1 : 0}) {
    LLVMFuzzerTestOneInput(data.data(), cut);
  }
  return 1;
}
}  // namespace

int main(int argc, char** argv) {
  std::size_t files = 0;
  for (int i = 1; i < argc; ++i) {
    const std::filesystem::path p(argv[i]);
    if (std::filesystem::is_directory(p)) {
      for (const auto& e : std::filesystem::recursive_directory_iterator(p)) {
        if (e.is_regular_file()) files += RunFile(e.path());
      }
    } else if (std::filesystem::exists(p)) {
      files += RunFile(p);
    }
  }
  std::printf("replayed %zu files\n", files);
  return 0;
}
