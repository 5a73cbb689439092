#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string_view>

#include "kyso/base/bytes.h"
#include "kyso/base/clock.h"

namespace kyso::pkix {

// DerWriter builds DER into one buffer (BoringSSL's CBB, reduced to what kyso encodes by
// hand: OCSP ResponseData, CRL entries and the outer signed envelope). Constructed types
// take a callback that writes their content; the length is patched in afterwards, so nested
// content is written once and moved at most once per level.
class DerWriter final {
 public:
  DerWriter() = default;
  explicit DerWriter(std::size_t reserve) { out_.reserve(reserve); }

  template <typename Fn>
  void Constructed(uint8_t tag, Fn&& fn) {
    out_.push_back(tag);
    const std::size_t start = out_.size();
    fn(*this);
    PatchLength(start);
  }
  template <typename Fn>
  void Sequence(Fn&& fn) { Constructed(0x30, std::forward<Fn>(fn)); }
  template <typename Fn>
  void Set(Fn&& fn) { Constructed(0x31, std::forward<Fn>(fn)); }
  // Explicit writes an EXPLICIT context tag [n] around what `fn` writes.
  template <typename Fn>
  void Explicit(unsigned n, Fn&& fn) {
    Constructed(static_cast<uint8_t>(0xa0 | n), std::forward<Fn>(fn));
  }
  template <typename Fn>
  void OctetStringWrapping(Fn&& fn) { Constructed(0x04, std::forward<Fn>(fn)); }

  // Primitive writes tag, length and content.
  void Primitive(uint8_t tag, ByteSpan content);
  void Oid(ByteSpan encoded_body) { Primitive(0x06, encoded_body); }
  void Null() { Primitive(0x05, {}); }
  void Boolean(bool v);
  void Integer(int64_t v);
  void Enumerated(int v);
  // UnsignedInteger writes a big-endian magnitude as a positive INTEGER.
  void UnsignedInteger(ByteSpan magnitude);
  void OctetString(ByteSpan v) { Primitive(0x04, v); }
  // BitString writes a BIT STRING with no unused bits.
  void BitString(ByteSpan v);
  // GeneralizedTime writes YYYYMMDDHHMMSSZ; UtcOrGeneralizedTime picks UTCTime before 2050 as
  // RFC 5280 4.1.2.5 requires.
  void GeneralizedTime(Time t);
  void UtcOrGeneralizedTime(Time t);
  // Raw appends already-encoded DER.
  void Raw(ByteSpan der) { out_.insert(out_.end(), der.begin(), der.end()); }

  std::size_t size() const { return out_.size(); }
  Bytes Finish() && { return std::move(out_); }

 private:
  void PatchLength(std::size_t content_start);
  Bytes out_;
};

// Tlv is one DER header: identifier octet, header length and content length.
struct Tlv {
  uint8_t tag = 0;
  std::size_t header_len = 0;
  std::size_t len = 0;
};

// ReadTlv reads a DER header at the start of `in` whose content fits in `in`. Only what DER
// allows: low tag numbers, definite lengths in the shortest form.
std::optional<Tlv> ReadTlv(ByteSpan in);

// IsDerSequence tells whether `der` is one definite-length SEQUENCE spanning all of it.
bool IsDerSequence(ByteSpan der);

// EncodeOidBody encodes a dotted OID ("2.5.29.32") as the body of an OBJECT IDENTIFIER.
Result<Bytes> EncodeOidBody(std::string_view dotted);

}  // namespace kyso::pkix
