#pragma once

// Hashing a large file while it is read. Every PDF signature's first ByteRange part starts at
// byte 0, and in a signed 100 MB PDF it is nearly the whole file: SHA-256 over it costs as
// much as reading the file. PrefixDigest runs SHA-256 on another thread, trailing the reader,
// and keeps the hash state every kStep bytes; the digest of [0, n) then costs only the bytes
// after the last kept state below n.

#include <openssl/evp.h>

#include <atomic>
#include <condition_variable>
#include <cstddef>
#include <mutex>
#include <thread>
#include <vector>

#include "kyso/base/bytes.h"
#include "kyso/pkix/ossl.h"

namespace kyso::verify {

class PrefixDigest final {
 public:
  static constexpr std::size_t kStep = std::size_t{1} << 20;

  PrefixDigest();
  ~PrefixDigest();  // stops and joins the hashing thread
  PrefixDigest(const PrefixDigest&) = delete;
  PrefixDigest& operator=(const PrefixDigest&) = delete;

  // Ready says bytes [0, ready.size()) of the file are in memory and final. From the reader;
  // each call's span starts where the previous one did, and is at least as long.
  void Ready(ByteSpan ready);
  // Finish says nothing more comes and waits until the hashing thread has caught up.
  void Finish();
  // Abort stops the hashing thread at once and waits for it: the spans given to Ready are
  // about to be freed. Resume then has nothing kept beyond what was hashed (callers discard it).
  void Abort();

  // Resume sets `ctx` to the state after hashing [0, n) of `data` (the file the spans given to
  // Ready were prefixes of) with `md`, using the kept states: false when `md` is not SHA-256
  // or nothing was kept (the caller then hashes from the start). Only after Finish.
  bool Resume(const EVP_MD* md, ByteSpan data, std::size_t n, EVP_MD_CTX* ctx) const;

 private:
  void Run();

  std::mutex mu_;
  std::condition_variable cv_;
  ByteSpan ready_;      // guarded by mu_
  bool done_ = false;   // guarded by mu_
  std::atomic<bool> aborted_{false};
  std::vector<ossl::UniquePtr<EVP_MD_CTX>> states_;  // states_[k]: after [0, k * kStep)
  std::thread thread_;
};

}  // namespace kyso::verify
