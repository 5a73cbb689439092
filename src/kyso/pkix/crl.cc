#include "kyso/pkix/crl.h"

#include "kyso/pkix/der.h"

namespace kyso::pkix {

namespace {
constexpr uint8_t kOidCrlReason[] = {0x55, 0x1d, 0x15};     // 2.5.29.21
constexpr uint8_t kOidCrlNumber[] = {0x55, 0x1d, 0x14};     // 2.5.29.20
constexpr uint8_t kOidAuthorityKeyId[] = {0x55, 0x1d, 0x23};  // 2.5.29.35
}  // namespace

Bytes EncodeTbsCrl(const CrlParams& p, SignatureAlgorithm alg,
                   std::span<const RevokedEntry> revoked) {
  DerWriter w(256 + revoked.size() * 48);
  w.Sequence([&](DerWriter& tbs) {
    tbs.Integer(1);  // v2
    tbs.Raw(AlgorithmIdentifierDer(alg));
    tbs.Raw(p.issuer_name_der);
    tbs.UtcOrGeneralizedTime(p.this_update);
    tbs.UtcOrGeneralizedTime(p.next_update);
    if (!revoked.empty()) {
      tbs.Sequence([&](DerWriter& list) {
        for (const RevokedEntry& e : revoked) {
          list.Sequence([&](DerWriter& entry) {
            entry.UnsignedInteger(e.serial);
            entry.UtcOrGeneralizedTime(e.revoked_at);
            if (e.reason != CrlReason::kUnspecified) {
              entry.Sequence([&](DerWriter& exts) {
                exts.Sequence([&](DerWriter& ext) {
                  ext.Oid(kOidCrlReason);
                  ext.OctetStringWrapping(
                      [&](DerWriter& v) { v.Enumerated(static_cast<int>(e.reason)); });
                });
              });
            }
          });
        }
      });
    }
    tbs.Explicit(0, [&](DerWriter& wrap) {
      wrap.Sequence([&](DerWriter& exts) {
        exts.Sequence([&](DerWriter& ext) {
          ext.Oid(kOidAuthorityKeyId);
          ext.OctetStringWrapping([&](DerWriter& v) {
            v.Sequence([&](DerWriter& aki) { aki.Primitive(0x80, p.authority_key_id); });
          });
        });
        exts.Sequence([&](DerWriter& ext) {
          ext.Oid(kOidCrlNumber);
          ext.OctetStringWrapping([&](DerWriter& v) { v.Integer(p.crl_number); });
        });
      });
    });
  });
  return std::move(w).Finish();
}

}  // namespace kyso::pkix
