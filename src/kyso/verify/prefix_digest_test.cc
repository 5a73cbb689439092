#include "kyso/verify/prefix_digest.h"

#include <gtest/gtest.h>
#include <openssl/sha.h>

#include <fstream>
#include <memory>
#include <vector>

#include "kyso/base/file.h"
#include "kyso/base/temp_dir.h"

namespace kyso::verify {
namespace {

Bytes Sha256Of(const EVP_MD* md, EVP_MD_CTX* ctx) {
  Bytes out(static_cast<std::size_t>(EVP_MD_get_size(md)));
  unsigned int len = 0;
  EXPECT_EQ(EVP_DigestFinal_ex(ctx, out.data(), &len), 1);
  out.resize(len);
  return out;
}

TEST(PrefixDigestTest, ResumesFromKeptStatesFedInUnevenChunks) {
  Bytes data(PrefixDigest::kStep * 5 + 12345);
  for (std::size_t i = 0; i < data.size(); ++i) data[i] = static_cast<uint8_t>(i * 131 + (i >> 13));
  PrefixDigest prefix;
  for (std::size_t got : {std::size_t{100}, PrefixDigest::kStep + 7, PrefixDigest::kStep * 3, data.size()}) {
    prefix.Ready(ByteSpan(data).first(got));
  }
  prefix.Finish();
  for (std::size_t n : {std::size_t{0}, std::size_t{1}, PrefixDigest::kStep - 1, PrefixDigest::kStep,
                        PrefixDigest::kStep * 3 + PrefixDigest::kStep / 2, data.size()}) {
    ossl::UniquePtr<EVP_MD_CTX> ctx(EVP_MD_CTX_new());
    ASSERT_TRUE(prefix.Resume(EVP_sha256(), data, n, ctx.get())) << n;
    Bytes want(SHA256_DIGEST_LENGTH);
    SHA256(data.data(), n, want.data());
    EXPECT_EQ(Sha256Of(EVP_sha256(), ctx.get()), want) << n;
  }
  ossl::UniquePtr<EVP_MD_CTX> ctx(EVP_MD_CTX_new());
  EXPECT_FALSE(prefix.Resume(EVP_sha384(), data, 10, ctx.get()));  // kept states are SHA-256
  EXPECT_FALSE(prefix.Resume(EVP_sha256(), data, data.size() + 1, ctx.get()));
}

TEST(PrefixDigestTest, FinishWithoutDataAndDestructionWithoutFinishAreSafe) {
  {
    PrefixDigest prefix;
    prefix.Finish();
    Bytes data(10, 0x41);
    ossl::UniquePtr<EVP_MD_CTX> ctx(EVP_MD_CTX_new());
    ASSERT_TRUE(prefix.Resume(EVP_sha256(), data, data.size(), ctx.get()));  // from state 0
    Bytes want(SHA256_DIGEST_LENGTH);
    SHA256(data.data(), data.size(), want.data());
    EXPECT_EQ(Sha256Of(EVP_sha256(), ctx.get()), want);
  }
  { PrefixDigest prefix; }  // the destructor stops the thread
}

// A file that grows while it is read: Read fails and frees its buffer, so the hashing thread
// must have stopped before (a second reader's finding: this crashed in SHA256_Update).
TEST(PrefixDigestTest, AReadThatFailsStopsTheHashingFirst) {
  TempDir dir("kyso-prefix");
  const auto path = dir / "growing.pdf";
  const std::size_t size = std::size_t{64} << 20;
  {
    std::ofstream out(path, std::ios::binary);
    const std::vector<char> block(std::size_t{1} << 20, 'A');
    for (std::size_t i = 0; i < size / block.size(); ++i) out.write(block.data(), static_cast<std::streamsize>(block.size()));
  }
  auto prefix = std::make_unique<PrefixDigest>();
  bool aborted = false;
  Result<FileContents> read = FileContents::Read(path, std::size_t{1} << 30, [&](ByteSpan ready) {
    if (ready.empty()) {
      aborted = true;
      prefix->Abort();
      return;
    }
    prefix->Ready(ready);
    if (ready.size() == size) {
      std::ofstream grow(path, std::ios::app | std::ios::binary);
      grow << 'X';
    }
  });
  EXPECT_FALSE(read.ok());
  EXPECT_TRUE(aborted);
  prefix.reset();  // nothing left running
}

}  // namespace
}  // namespace kyso::verify
