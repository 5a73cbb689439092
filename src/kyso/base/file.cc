#include "kyso/base/file.h"

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <cstdio>
#include <thread>
#include <utility>

namespace kyso {

namespace fs = std::filesystem;

namespace {

// OpenRegular opens a regular file of at most `max_len` bytes for reading: its descriptor
// (the caller closes it) and size.
Result<std::pair<int, std::size_t>> OpenRegular(const fs::path& path, std::size_t max_len) {
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return NotFoundError("không đọc được " + path.string());
  struct stat st {};
  if (::fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
    ::close(fd);
    return InvalidArgumentError(path.string() + " không phải tệp thông thường");
  }
  const auto size = static_cast<std::size_t>(st.st_size);
  if (size > max_len) {
    ::close(fd);
    return InvalidArgumentError(path.string() + " lớn hơn " + std::to_string(max_len >> 20) + " MiB");
  }
  return std::make_pair(fd, size);
}

}  // namespace

Result<MappedFile> MappedFile::Open(const fs::path& path, std::size_t max_len) {
  KYSO_ASSIGN_OR_RETURN(const auto opened, OpenRegular(path, max_len));
  const auto [fd, size] = opened;
  MappedFile m;
  if (size > 0) {
    void* p = ::mmap(nullptr, size, PROT_READ, MAP_PRIVATE, fd, 0);
    if (p == MAP_FAILED) {
      ::close(fd);
      return FailedPreconditionError("không đọc được " + path.string());
    }
    m.data_ = p;
    m.size_ = size;
  }
  ::close(fd);  // the mapping keeps the file open
  return m;
}

MappedFile::MappedFile(MappedFile&& other) noexcept
    : data_(std::exchange(other.data_, nullptr)), size_(std::exchange(other.size_, 0)) {}

MappedFile& MappedFile::operator=(MappedFile&& other) noexcept {
  if (this != &other) {
    if (data_ != nullptr) ::munmap(data_, size_);
    data_ = std::exchange(other.data_, nullptr);
    size_ = std::exchange(other.size_, 0);
  }
  return *this;
}

MappedFile::~MappedFile() {
  if (data_ != nullptr) ::munmap(data_, size_);
}

namespace {

// PreadAll reads [offset, offset + len) of `fd` into `out`: the bytes read, fewer only at the
// end of the file; -1 on an error.
ssize_t PreadAll(int fd, uint8_t* out, std::size_t len, std::size_t offset) {
  std::size_t got = 0;
  while (got < len) {
    const ssize_t n = ::pread(fd, out + got, len - got, static_cast<off_t>(offset + got));
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return -1;
    if (n == 0) break;
    got += static_cast<std::size_t>(n);
  }
  return static_cast<ssize_t>(got);
}

// kParallelReadThreshold: from this size the second half of a file is read on another thread.
// Copying from the page cache costs about as much CPU as SHA-256 over the same bytes; two
// cores halve the wait before hashing can start (a 100 MB PDF: 50 ms down to 25 ms).
constexpr std::size_t kParallelReadThreshold = std::size_t{32} * 1024 * 1024;

}  // namespace

std::string LowerExtension(const fs::path& path) {
  std::string ext = path.extension().string();
  for (char& c : ext) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return ext;
}

Result<FileContents> FileContents::Read(const fs::path& path, std::size_t max_len,
                                       const std::function<void(ByteSpan ready)>& on_progress) {
  KYSO_ASSIGN_OR_RETURN(const auto opened, OpenRegular(path, max_len));
  const auto [fd, size] = opened;
  FileContents f;
  f.data_.reset(new uint8_t[size + 1]);  // +1: room to notice a file that grew
  f.size_ = size;
  if (on_progress) {
    constexpr std::size_t kChunk = std::size_t{4} * 1024 * 1024;
    std::size_t got = 0;
    for (;;) {
      const ssize_t n = PreadAll(fd, f.data_.get() + got, std::min(kChunk, size + 1 - got), got);
      if (n < 0) {
        ::close(fd);
        on_progress(ByteSpan());  // the buffer is freed on return: its user must stop first
        return FailedPreconditionError("không đọc được " + path.string());
      }
      got += static_cast<std::size_t>(n);
      if (n == 0 || got > size) break;
      on_progress(ByteSpan(f.data_.get(), got));
    }
    ::close(fd);
    if (got != size) {
      on_progress(ByteSpan());
      return FailedPreconditionError(path.string() + " thay đổi trong khi đang đọc");
    }
    return f;
  }
  // Both halves, then one byte past the end: a file that shrank reads short, one that grew
  // has that byte.
  const std::size_t half = size >= kParallelReadThreshold && std::thread::hardware_concurrency() > 1 ? size / 2 : 0;
  ssize_t second = 0;
  std::thread other;
  if (half > 0) {
    // Copies, not the structured bindings: lambdas may not capture those before C++20 in clang.
    uint8_t* const dst = f.data_.get() + half;
    const std::size_t len = size + 1 - half;
    other = std::thread([&second, fd = fd, dst, len, half] { second = PreadAll(fd, dst, len, half); });
  }
  const ssize_t first = PreadAll(fd, f.data_.get(), half > 0 ? half : size + 1, 0);
  if (other.joinable()) other.join();
  ::close(fd);
  if (first < 0 || second < 0) return FailedPreconditionError("không đọc được " + path.string());
  const std::size_t got = half > 0 ? (static_cast<std::size_t>(first) == half ? half + static_cast<std::size_t>(second) : 0)
                                   : static_cast<std::size_t>(first);
  if (got != size) return FailedPreconditionError(path.string() + " thay đổi trong khi đang đọc");
  return f;
}

Result<AtomicFile> AtomicFile::Create(const fs::path& path) {
  const fs::path dir = path.has_parent_path() ? path.parent_path() : fs::path(".");
  AtomicFile f;
  f.tmp_ = (dir / ("." + path.filename().string() + ".XXXXXX")).string();
  f.fd_ = ::mkstemp(f.tmp_.data());
  if (f.fd_ < 0) return FailedPreconditionError("không ghi được vào thư mục " + dir.string());
  ::fchmod(f.fd_, 0644);
  f.path_ = path;
  return f;
}

AtomicFile::AtomicFile(AtomicFile&& other) noexcept
    : fd_(std::exchange(other.fd_, -1)), tmp_(std::move(other.tmp_)), path_(std::move(other.path_)) {}

AtomicFile::~AtomicFile() {
  if (fd_ >= 0) {
    ::close(fd_);
    ::unlink(tmp_.c_str());
  }
}

Status AtomicFile::Append(ByteSpan data) {
  if (fd_ < 0) return FailedPreconditionError("file already committed");
  while (!data.empty()) {
    const ssize_t n = ::write(fd_, data.data(), data.size());
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return FailedPreconditionError("không ghi được " + path_.string());
    data = data.subspan(static_cast<std::size_t>(n));
  }
  return OkStatus();
}

Status AtomicFile::Sync() {
  if (fd_ < 0) return FailedPreconditionError("file already committed");
  if (::fdatasync(fd_) != 0) return FailedPreconditionError("không ghi được " + path_.string());
  return OkStatus();
}

Status AtomicFile::Commit() && {
  if (fd_ < 0) return FailedPreconditionError("file already committed");
  const bool synced = ::fsync(fd_) == 0;
  ::close(fd_);
  fd_ = -1;
  if (!synced || std::rename(tmp_.c_str(), path_.c_str()) != 0) {
    ::unlink(tmp_.c_str());
    return FailedPreconditionError("không ghi được " + path_.string());
  }
  return OkStatus();
}

}  // namespace kyso
