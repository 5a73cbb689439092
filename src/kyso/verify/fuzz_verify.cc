// libFuzzer harness over the verifier's readers of outside documents: PDF signatures
// (ByteRange, CMS, revision classification), CMS SignedData (DER or PEM), S/MIME messages and
// XML signatures. Whatever the input, each reader gives a result or a Status, within its size
// limits; nothing is fetched (detached XML references fail, a detached CMS has no content).
#include <cstddef>
#include <cstdint>
#include <optional>

#include "kyso/verify/cms_sigs.h"
#include "kyso/verify/pdf_sigs.h"
#include "kyso/verify/xades_sigs.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, std::size_t size) {
  using namespace kyso::verify;
  const kyso::ByteSpan input(data, size);
  (void)ReadPdfSignatures(input);
  (void)ReadCms(input, std::nullopt);
  (void)ReadCms(input, input);  // as if the input were also its own detached content
  if (LooksLikeSmime(input)) (void)ReadSmime(input);
  if (LooksLikeXml(input)) (void)ReadXmlSignatures(input, {});
  return 0;
}
