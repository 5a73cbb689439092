// libFuzzer harness: RFC 3161 TimeStampReqs as POST /tsa receives them.
#include <cstddef>
#include <cstdint>

#include "kyso/pkix/tsp.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, std::size_t size) {
  const kyso::ByteSpan in(data, size);
  kyso::pkix::TspFailure failure = kyso::pkix::TspFailure::kSystemFailure;
  auto req = kyso::pkix::ParseTimeStampReq(in, &failure);
  if (req.ok()) {
    // What the parser promises: an allowed digest of the right length, a bounded nonce, and an
    // imprint that can be copied into a TSTInfo.
    if (req->hash_nid != NID_sha256 && req->hash_nid != NID_sha384 && req->hash_nid != NID_sha512) {
      __builtin_trap();
    }
    if (req->message_imprint_der.empty() || req->hashed_message.size() < 32 ||
        (req->nonce_der && req->nonce_der->size() > kyso::pkix::kMaxTspNonceLen + 3)) {
      __builtin_trap();
    }
    if (!kyso::pkix::IsDerSequence(in)) __builtin_trap();
  } else {
    if (req.status().code() != kyso::Code::kInvalidArgument) __builtin_trap();
    if (failure == kyso::pkix::TspFailure::kSystemFailure) __builtin_trap();
    // A refusal is always answerable: the rejection encodes and reads back.
    const kyso::Bytes resp = kyso::pkix::EncodeTimeStampRejection(failure, req.status().message());
    if (!kyso::pkix::ParseTimeStampResp(resp).ok()) __builtin_trap();
  }
  return 0;
}
