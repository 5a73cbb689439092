#include "kyso/verify/prefix_digest.h"

#include <algorithm>

namespace kyso::verify {

PrefixDigest::PrefixDigest() { thread_ = std::thread([this] { Run(); }); }

PrefixDigest::~PrefixDigest() { Finish(); }

void PrefixDigest::Ready(ByteSpan ready) {
  {
    std::lock_guard lock(mu_);
    ready_ = ready;
  }
  cv_.notify_one();
}

void PrefixDigest::Finish() {
  {
    std::lock_guard lock(mu_);
    done_ = true;
  }
  cv_.notify_one();
  if (thread_.joinable()) thread_.join();
}

void PrefixDigest::Abort() {
  {
    std::lock_guard lock(mu_);
    done_ = true;
    aborted_ = true;
  }
  cv_.notify_one();
  if (thread_.joinable()) thread_.join();
}

void PrefixDigest::Run() {
  ossl::UniquePtr<EVP_MD_CTX> ctx(EVP_MD_CTX_new());
  if (!ctx || EVP_DigestInit_ex(ctx.get(), EVP_sha256(), nullptr) != 1) return;
  auto keep = [&] {
    ossl::UniquePtr<EVP_MD_CTX> copy(EVP_MD_CTX_new());
    if (!copy || EVP_MD_CTX_copy_ex(copy.get(), ctx.get()) != 1) return false;
    states_.push_back(std::move(copy));
    return true;
  };
  if (!keep()) return;
  std::size_t hashed = 0;
  for (;;) {
    ByteSpan ready;
    {
      std::unique_lock lock(mu_);
      cv_.wait(lock, [&] { return done_ || ready_.size() >= hashed + kStep; });
      if (aborted_ || ready_.size() < hashed + kStep) return;  // done: a tail shorter than a step is left
      ready = ready_;
    }
    while (ready.size() >= hashed + kStep && !aborted_) {
      if (EVP_DigestUpdate(ctx.get(), ready.data() + hashed, kStep) != 1) return;
      hashed += kStep;
      if (!keep()) return;
    }
  }
}

bool PrefixDigest::Resume(const EVP_MD* md, ByteSpan data, std::size_t n, EVP_MD_CTX* ctx) const {
  if (md == nullptr || EVP_MD_get_type(md) != NID_sha256 || states_.empty() || n > data.size()) return false;
  const std::size_t k = std::min(n / kStep, states_.size() - 1);
  if (EVP_MD_CTX_copy_ex(ctx, states_[k].get()) != 1) return false;
  const std::size_t from = k * kStep;
  return EVP_DigestUpdate(ctx, data.data() + from, n - from) == 1;
}

}  // namespace kyso::verify
