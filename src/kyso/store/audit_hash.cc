#include "kyso/store/audit_hash.h"

#include <openssl/evp.h>

namespace kyso::store {

namespace {
void Update(EVP_MD_CTX* ctx, uint64_t v) {
  uint8_t b[8];
  for (int i = 0; i < 8; ++i) b[i] = static_cast<uint8_t>(v >> (56 - 8 * i));
  EVP_DigestUpdate(ctx, b, sizeof(b));
}
void Update(EVP_MD_CTX* ctx, std::string_view s) {
  Update(ctx, static_cast<uint64_t>(s.size()));
  EVP_DigestUpdate(ctx, s.data(), s.size());
}
}  // namespace

Bytes AuditHash(ByteSpan prev_hash, int64_t id, std::string_view at, const AuditEvent& e) {
  EVP_MD_CTX* ctx = EVP_MD_CTX_new();
  EVP_DigestInit_ex(ctx, EVP_sha256(), nullptr);
  Update(ctx, AsString(prev_hash));
  Update(ctx, static_cast<uint64_t>(id));
  Update(ctx, at);
  Update(ctx, e.actor);
  Update(ctx, e.action);
  Update(ctx, e.object);
  Update(ctx, e.payload);
  Bytes out(kAuditHashLen);
  unsigned int len = 0;
  EVP_DigestFinal_ex(ctx, out.data(), &len);
  EVP_MD_CTX_free(ctx);
  return out;
}

}  // namespace kyso::store
