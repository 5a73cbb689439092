#include "kyso/pkix/der.h"

#include <charconv>
#include <cstdio>

namespace kyso::pkix {

void DerWriter::PatchLength(std::size_t start) {
  const std::size_t len = out_.size() - start;
  uint8_t header[9];
  std::size_t n = 0;
  if (len < 0x80) {
    header[n++] = static_cast<uint8_t>(len);
  } else {
    std::size_t octets = 0;
    for (std::size_t l = len; l > 0; l >>= 8) ++octets;
    header[n++] = static_cast<uint8_t>(0x80 | octets);
    for (std::size_t i = octets; i > 0; --i) {
      header[n++] = static_cast<uint8_t>(len >> (8 * (i - 1)));
    }
  }
  out_.insert(out_.begin() + static_cast<std::ptrdiff_t>(start), header, header + n);
}

void DerWriter::Primitive(uint8_t tag, ByteSpan content) {
  out_.push_back(tag);
  const std::size_t start = out_.size();
  out_.insert(out_.end(), content.begin(), content.end());
  PatchLength(start);
}

void DerWriter::Boolean(bool v) {
  const uint8_t b = v ? 0xff : 0x00;
  Primitive(0x01, ByteSpan(&b, 1));
}

namespace {
Bytes MinimalTwosComplement(int64_t v) {
  Bytes out;
  for (int i = 7; i >= 0; --i) out.push_back(static_cast<uint8_t>(static_cast<uint64_t>(v) >> (8 * i)));
  std::size_t skip = 0;
  while (skip + 1 < out.size() &&
         ((out[skip] == 0x00 && (out[skip + 1] & 0x80) == 0) ||
          (out[skip] == 0xff && (out[skip + 1] & 0x80) != 0))) {
    ++skip;
  }
  out.erase(out.begin(), out.begin() + static_cast<std::ptrdiff_t>(skip));
  return out;
}
}  // namespace

void DerWriter::Integer(int64_t v) { Primitive(0x02, MinimalTwosComplement(v)); }
void DerWriter::Enumerated(int v) { Primitive(0x0a, MinimalTwosComplement(v)); }

void DerWriter::UnsignedInteger(ByteSpan magnitude) {
  std::size_t skip = 0;
  while (skip + 1 < magnitude.size() && magnitude[skip] == 0) ++skip;
  ByteSpan m = magnitude.subspan(skip);
  out_.push_back(0x02);
  const std::size_t start = out_.size();
  if (m.empty() || (m[0] & 0x80) != 0) out_.push_back(0x00);
  out_.insert(out_.end(), m.begin(), m.end());
  PatchLength(start);
}

void DerWriter::BitString(ByteSpan v) {
  out_.push_back(0x03);
  const std::size_t start = out_.size();
  out_.push_back(0x00);  // no unused bits
  out_.insert(out_.end(), v.begin(), v.end());
  PatchLength(start);
}

namespace {
std::string TimeDigits(Time t, bool four_digit_year) {
  using namespace std::chrono;
  const sys_days day = floor<days>(t);
  const year_month_day ymd(day);
  const hh_mm_ss hms(t - day);
  char buf[24];
  const int year = int(ymd.year());
  std::snprintf(buf, sizeof(buf), four_digit_year ? "%04d%02u%02u%02d%02d%02dZ"
                                                  : "%02d%02u%02u%02d%02d%02dZ",
                four_digit_year ? year : year % 100, unsigned(ymd.month()), unsigned(ymd.day()),
                int(hms.hours().count()), int(hms.minutes().count()),
                int(hms.seconds().count()));
  return buf;
}
}  // namespace

void DerWriter::GeneralizedTime(Time t) { Primitive(0x18, AsBytes(TimeDigits(t, true))); }

void DerWriter::UtcOrGeneralizedTime(Time t) {
  const int year = int(std::chrono::year_month_day(std::chrono::floor<std::chrono::days>(t)).year());
  if (year >= 1950 && year < 2050) {
    Primitive(0x17, AsBytes(TimeDigits(t, false)));
  } else {
    GeneralizedTime(t);
  }
}

Result<Bytes> EncodeOidBody(std::string_view dotted) {
  std::vector<uint64_t> arcs;
  std::size_t pos = 0;
  while (pos <= dotted.size()) {
    const std::size_t dot = std::min(dotted.find('.', pos), dotted.size());
    uint64_t v = 0;
    const auto [p, ec] = std::from_chars(dotted.data() + pos, dotted.data() + dot, v);
    if (ec != std::errc() || p != dotted.data() + dot || dot == pos) {
      return InvalidArgumentError("malformed OID '" + std::string(dotted) + "'");
    }
    arcs.push_back(v);
    pos = dot + 1;
  }
  if (arcs.size() < 2 || arcs[0] > 2 || (arcs[0] < 2 && arcs[1] > 39)) {
    return InvalidArgumentError("malformed OID '" + std::string(dotted) + "'");
  }
  Bytes out;
  auto put = [&](uint64_t v) {
    uint8_t tmp[10];
    int n = 0;
    do {
      tmp[n++] = static_cast<uint8_t>(v & 0x7f);
      v >>= 7;
    } while (v != 0);
    while (n > 0) {
      --n;
      out.push_back(static_cast<uint8_t>(tmp[n] | (n > 0 ? 0x80 : 0)));
    }
  };
  put(arcs[0] * 40 + arcs[1]);
  for (std::size_t i = 2; i < arcs.size(); ++i) put(arcs[i]);
  return out;
}

std::optional<Tlv> ReadTlv(ByteSpan in) {
  if (in.size() < 2 || (in[0] & 0x1f) == 0x1f) return std::nullopt;
  Tlv t{in[0], 2, in[1]};
  if (in[1] >= 0x80) {
    const std::size_t n = in[1] & 0x7fu;
    // n == 0 is BER's indefinite length; a leading zero octet or a short value is not minimal.
    if (n == 0 || n > 4 || in.size() < 2 + n || in[2] == 0) return std::nullopt;
    std::size_t len = 0;
    for (std::size_t i = 0; i < n; ++i) len = len << 8 | in[2 + i];
    if (len < 0x80) return std::nullopt;
    t.header_len = 2 + n;
    t.len = len;
  }
  if (in.size() - t.header_len < t.len) return std::nullopt;
  return t;
}

bool IsDerSequence(ByteSpan der) {
  const std::optional<Tlv> t = ReadTlv(der);
  return t && t->tag == 0x30 && t->header_len + t->len == der.size();
}

}  // namespace kyso::pkix
