#include <gtest/gtest.h>

#include <algorithm>
#include <fstream>
#include <sstream>
#include <vector>

#include "kyso/base/bytes.h"
#include "kyso/base/clock.h"
#include "kyso/base/config.h"
#include "kyso/base/file.h"
#include "kyso/base/temp_dir.h"
#include "kyso/base/secret.h"
#include "kyso/base/status.h"

namespace kyso {
namespace {

Result<int> Half(int x) {
  if (x % 2 != 0) return InvalidArgumentError("odd");
  return x / 2;
}

Result<int> Quarter(int x) {
  KYSO_ASSIGN_OR_RETURN(int h, Half(x), "first half");
  KYSO_ASSIGN_OR_RETURN(int q, Half(h));
  return q;
}

TEST(StatusTest, AssignOrReturnPropagatesWithContext) {
  EXPECT_EQ(*Quarter(8), 2);
  Result<int> r = Quarter(3);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), Code::kInvalidArgument);
  EXPECT_EQ(r.status().message(), "first half: odd");
}

TEST(SecretTest, PrintsRedactedAndComparesByValue) {
  SecretString pin("123456");
  std::ostringstream os;
  os << pin;
  EXPECT_EQ(os.str(), "[redacted]");
  SecretString moved = std::move(pin);
  EXPECT_EQ(moved.reveal(), "123456");
  EXPECT_TRUE(pin.empty());  // NOLINT: moved-from is defined as empty
  EXPECT_TRUE(SecretEquals(AsBytes("abc"), AsBytes("abc")));
  EXPECT_FALSE(SecretEquals(AsBytes("abc"), AsBytes("abd")));
  EXPECT_FALSE(SecretEquals(AsBytes("abc"), AsBytes("abcd")));
}

TEST(BytesTest, HexRoundTrip) {
  const Bytes b = {0x00, 0x7f, 0xab, 0xff};
  EXPECT_EQ(HexEncode(b), "007fabff");
  EXPECT_EQ(*HexDecode("007FabFF"), b);
  EXPECT_FALSE(HexDecode("0").ok());
  EXPECT_FALSE(HexDecode("zz").ok());
}

TEST(ClockTest, AddYearsAndFormat) {
  EXPECT_EQ(FormatIso8601Utc(Utc(2026, 11, 25, 7, 3, 9)), "2026-11-25T07:03:09Z");
  EXPECT_EQ(AddYears(Utc(2028, 2, 29, 1), 5), Utc(2033, 2, 28, 1));
  EXPECT_EQ(AddYears(Utc(2026, 1, 31), 20), Utc(2046, 1, 31));
}

TEST(ConfigTest, DefaultsRoundTripThroughToml) {
  Config c;
  c.ca.public_url = "https://ca.dongnai.gov.vn";
  c.ca.issuing_key = KeySpec::kEcP384;
  Result<Config> parsed = ParseConfig(FormatConfig(c));
  ASSERT_TRUE(parsed.ok()) << parsed.status().ToString();
  EXPECT_EQ(parsed->ca.public_url, "https://ca.dongnai.gov.vn");
  EXPECT_EQ(parsed->ca.issuing_key, KeySpec::kEcP384);
  EXPECT_EQ(parsed->ca.province, "Đồng Nai");
  EXPECT_EQ(parsed->ra.official_domains, std::vector<std::string>{"dongnai.gov.vn"});
  EXPECT_EQ(parsed->ra.days_handover, 5);
}

TEST(ConfigTest, RejectsUnknownKeysAndOutOfRange) {
  EXPECT_FALSE(ParseConfig("[ca]\npublik_url = \"x\"\n").ok());
  EXPECT_FALSE(ParseConfig("[ca]\nsubscriber_max_years = 6\n").ok());  // R4.1
  EXPECT_FALSE(ParseConfig("[ca]\nroot_validity_years = 21\n").ok());   // R4.3
  EXPECT_FALSE(ParseConfig("[nope]\n").ok());
  EXPECT_FALSE(ParseConfig("[ra]\nrenewal_max_years = 4\n").ok());  // R4.2
  EXPECT_FALSE(ParseConfig("[ra]\nofficial_domains = \"x\"\n").ok());
  EXPECT_EQ(ParseConfig("[ra]\nrenewal_min_days_left = 60\n")->ra.renewal_min_days_left, 60);
  EXPECT_TRUE(ParseConfig("").ok());
}

TEST(ConfigTest, R6_1_SignSectionMarkersAndTsa) {
  Config c;
  EXPECT_EQ(c.sign.secret_markers, (std::vector<std::string>{"TUYỆT MẬT", "TỐI MẬT", "MẬT"}));
  c.sign.tsa_url = "http://tsa.dongnai.gov.vn/tsa";
  c.sign.secret_markers = {"KHẨN", "MẬT"};
  Result<Config> parsed = ParseConfig(FormatConfig(c));
  ASSERT_TRUE(parsed.ok()) << parsed.status().ToString();
  EXPECT_EQ(parsed->sign.tsa_url, "http://tsa.dongnai.gov.vn/tsa");
  EXPECT_EQ(parsed->sign.secret_markers, c.sign.secret_markers);
  EXPECT_FALSE(ParseConfig("[sign]\nsecret_markers = [\"\"]\n").ok());
  EXPECT_FALSE(ParseConfig("[sign]\ntsa = \"x\"\n").ok());
}

TEST(FileTest, MappedFileAndAtomicFile) {
  TempDir dir("kyso-file");
  const auto path = dir / "out.bin";
  {
    Result<AtomicFile> f = AtomicFile::Create(path);
    ASSERT_TRUE(f.ok());
    EXPECT_TRUE(f->Append(AsBytes(std::string_view("abc"))).ok());
    EXPECT_TRUE(std::filesystem::exists(f->temp_path()));
    // Dropped without Commit: nothing appears, the temporary file goes.
  }
  EXPECT_FALSE(std::filesystem::exists(path));
  EXPECT_EQ(std::distance(std::filesystem::directory_iterator(dir.path()), {}), 0);
  Result<AtomicFile> f = AtomicFile::Create(path);
  ASSERT_TRUE(f.ok());
  EXPECT_TRUE(f->Append(AsBytes(std::string_view("abc"))).ok());
  EXPECT_TRUE(f->Append(AsBytes(std::string_view("def"))).ok());
  {
    Result<MappedFile> partial = MappedFile::Open(f->temp_path(), 100);
    ASSERT_TRUE(partial.ok());
    EXPECT_EQ(AsString(partial->bytes()), "abcdef");
  }
  EXPECT_TRUE(std::move(*f).Commit().ok());
  Result<MappedFile> m = MappedFile::Open(path, 6);
  ASSERT_TRUE(m.ok());
  EXPECT_EQ(AsString(m->bytes()), "abcdef");
  EXPECT_EQ(MappedFile::Open(path, 5).status().code(), Code::kInvalidArgument);
  EXPECT_EQ(MappedFile::Open(dir.path(), 5).status().code(), Code::kInvalidArgument);
  EXPECT_EQ(MappedFile::Open(dir / "none", 5).status().code(), Code::kNotFound);
  Result<FileContents> read = FileContents::Read(path, 6);
  ASSERT_TRUE(read.ok());
  EXPECT_EQ(AsString(read->bytes()), "abcdef");
  EXPECT_EQ(FileContents::Read(path, 5).status().code(), Code::kInvalidArgument);
  EXPECT_EQ(FileContents::Read(dir.path(), 5).status().code(), Code::kInvalidArgument);
  EXPECT_EQ(FileContents::Read(dir / "none", 5).status().code(), Code::kNotFound);
}

TEST(FileTest, LargeFileIsReadWholeInParallelOrWithProgress) {
  TempDir dir("kyso-file");
  const auto path = dir / "big.bin";
  std::string content(std::size_t{40} * 1024 * 1024 + 3, '\0');  // above the parallel threshold
  for (std::size_t i = 0; i < content.size(); ++i) content[i] = static_cast<char>(i * 7 + (i >> 20));
  {
    std::ofstream out(path, std::ios::binary);
    out << content;
  }
  Result<FileContents> whole = FileContents::Read(path, content.size());
  ASSERT_TRUE(whole.ok()) << whole.status().message();
  EXPECT_TRUE(AsString(whole->bytes()) == content);
  std::vector<std::size_t> seen;
  Result<FileContents> stepped =
      FileContents::Read(path, content.size(), [&](ByteSpan ready) { seen.push_back(ready.size()); });
  ASSERT_TRUE(stepped.ok());
  EXPECT_TRUE(AsString(stepped->bytes()) == content);
  ASSERT_FALSE(seen.empty());
  EXPECT_EQ(seen.back(), content.size());
  EXPECT_TRUE(std::is_sorted(seen.begin(), seen.end()));
}

}  // namespace
}  // namespace kyso
