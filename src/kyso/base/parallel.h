#pragma once

#include <algorithm>
#include <atomic>
#include <cstddef>
#include <thread>
#include <vector>

namespace kyso {

// ParallelFor calls fn(i) for every i in [0, n) on up to `threads` threads (the caller's
// among them), handing out indexes one at a time so uneven work balances. fn must be safe
// to call concurrently for different indexes.
template <typename Fn>
void ParallelFor(std::size_t n, int threads, Fn&& fn) {
  std::atomic<std::size_t> next{0};
  auto work = [&] {
    for (std::size_t i = next++; i < n; i = next++) fn(i);
  };
  const int count = std::max(1, std::min<int>(threads, static_cast<int>(n)));
  std::vector<std::thread> pool;
  pool.reserve(static_cast<std::size_t>(count - 1));
  for (int t = 1; t < count; ++t) pool.emplace_back(work);
  work();
  for (std::thread& t : pool) t.join();
}

}  // namespace kyso
