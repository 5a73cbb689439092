#pragma once

#include <unistd.h>

#include <cstdio>
#include <string>

namespace kyso {

// ProgressBar draws "[#####.....] 512/10000" on stderr, overwriting itself, and only when
// stderr is a terminal: logs and scripts see nothing, so a refusal stays one line.
class ProgressBar final {
 public:
  explicit ProgressBar(std::string label) : label_(std::move(label)), tty_(::isatty(2) == 1) {}
  ~ProgressBar() {
    if (drawn_) std::fputc('\n', stderr);
  }
  void Update(std::size_t done, std::size_t total) {
    if (!tty_ || total < kMinTotal) return;
    constexpr std::size_t kWidth = 30;
    const std::size_t filled = total ? done * kWidth / total : kWidth;
    std::string bar(filled, '#');
    bar.resize(kWidth, '.');
    std::fprintf(stderr, "\r%s [%s] %zu/%zu", label_.c_str(), bar.c_str(), done, total);
    std::fflush(stderr);
    drawn_ = true;
  }

 private:
  static constexpr std::size_t kMinTotal = 1000;  // short batches need no bar
  std::string label_;
  bool tty_;
  bool drawn_ = false;
};

}  // namespace kyso
