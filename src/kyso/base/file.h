#pragma once

// Files too large to copy: a read-only mapping of an input, and an output that appears whole
// or not at all. What `kyso sign pdf` uses to sign a 100 MB PDF without holding it twice.

#include <cstddef>
#include <filesystem>
#include <functional>
#include <memory>
#include <string>

#include "kyso/base/bytes.h"
#include "kyso/base/status.h"

namespace kyso {

// MappedFile is a read-only private mapping of a whole regular file. Move-only.
// The bytes are what the file held when mapped only if nobody writes to it meanwhile: callers
// that need a stable input (a signature covers these bytes) must map files they control or
// check what they signed afterwards.
class MappedFile final {
 public:
  // Open maps `path`, refusing anything that is not a regular file or is larger than
  // `max_len` (kInvalidArgument). An empty file maps to an empty span.
  static Result<MappedFile> Open(const std::filesystem::path& path, std::size_t max_len);

  MappedFile(MappedFile&& other) noexcept;
  MappedFile& operator=(MappedFile&& other) noexcept;
  MappedFile(const MappedFile&) = delete;
  MappedFile& operator=(const MappedFile&) = delete;
  ~MappedFile();

  ByteSpan bytes() const { return {static_cast<const uint8_t*>(data_), size_}; }

 private:
  MappedFile() = default;
  void* data_ = nullptr;
  std::size_t size_ = 0;
};

// LowerExtension is `path`'s extension in ASCII lower case (".PDF" -> ".pdf"; "" when none).
std::string LowerExtension(const std::filesystem::path& path);

// FileContents is a whole file read into memory once, in one allocation of its exact size:
// what is signed is exactly what these bytes are, whatever happens to the file meanwhile (a
// mapping would see a concurrent change, or fault on a truncation). Move-only.
class FileContents final {
 public:
  // Read refuses anything that is not a regular file, or is larger than `max_len`
  // (kInvalidArgument); a file that changes size while read is kFailedPrecondition.
  // `on_progress`, when given, is called on the reading thread after each chunk with the part
  // read so far (a prefix of bytes(), final from then on), so that another thread can work on
  // a large file before all of it is in memory; without it, a large file is read by two
  // threads at once. When the read fails after some progress, `on_progress` gets an empty span
  // before the buffer is freed: it must return only once nothing uses the earlier spans.
  static Result<FileContents> Read(const std::filesystem::path& path, std::size_t max_len,
                                   const std::function<void(ByteSpan ready)>& on_progress = {});

  ByteSpan bytes() const { return {data_.get(), size_}; }

 private:
  std::unique_ptr<uint8_t[]> data_;  // not zeroed first: read() is the only pass over it
  std::size_t size_ = 0;
};

// AtomicFile writes a new version of `path` into a temporary file beside it (mode 0644);
// Commit syncs it and renames it over `path`. Destroyed without Commit, the temporary file is
// removed and `path` is untouched. Move-only.
class AtomicFile final {
 public:
  static Result<AtomicFile> Create(const std::filesystem::path& path);

  AtomicFile(AtomicFile&& other) noexcept;
  AtomicFile& operator=(AtomicFile&&) = delete;
  AtomicFile(const AtomicFile&) = delete;
  AtomicFile& operator=(const AtomicFile&) = delete;
  ~AtomicFile();

  Status Append(ByteSpan data);
  // Sync flushes what was appended so far to the disk (fdatasync): done early, from another
  // thread, it leaves Commit little to wait for.
  Status Sync();
  // temp_path is where the bytes are until Commit (to map them again between appends).
  const std::string& temp_path() const { return tmp_; }
  Status Commit() &&;

 private:
  AtomicFile() = default;
  int fd_ = -1;
  std::string tmp_;
  std::filesystem::path path_;
};

}  // namespace kyso
