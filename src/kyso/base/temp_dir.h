#pragma once

#include <unistd.h>

#include <filesystem>
#include <string>

namespace kyso {

// TempDir is a fresh folder under the system temp directory, removed with its contents when
// the object goes. For tests and benchmarks.
class TempDir final {
 public:
  explicit TempDir(std::string_view prefix = "kyso") {
    std::string tmpl = (std::filesystem::temp_directory_path() / (std::string(prefix) + "-XXXXXX")).string();
    if (::mkdtemp(tmpl.data()) != nullptr) path_ = tmpl;
  }
  ~TempDir() {
    std::error_code ec;
    if (!path_.empty()) std::filesystem::remove_all(path_, ec);
  }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;

  const std::filesystem::path& path() const { return path_; }
  std::filesystem::path operator/(std::string_view name) const { return path_ / name; }

 private:
  std::filesystem::path path_;
};

}  // namespace kyso
