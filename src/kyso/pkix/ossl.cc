#include "kyso/pkix/ossl.h"

#include <openssl/err.h>

namespace kyso::ossl {

Status Error(Code code, std::string_view what) {
  std::string message(what);
  if (code != Code::kInternal) {
    // Messages of other codes are shown to users: keep them to one plain line.
    ERR_clear_error();
    return Status(code, std::move(message));
  }
  unsigned long err;
  bool first = true;
  while ((err = ERR_get_error()) != 0) {
    char buf[256];
    ERR_error_string_n(err, buf, sizeof(buf));
    message += first ? ": " : "; ";
    message += buf;
    first = false;
  }
  return Status(code, std::move(message));
}

}  // namespace kyso::ossl
