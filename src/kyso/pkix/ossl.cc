#include "kyso/pkix/ossl.h"

#include <openssl/err.h>

namespace kyso::ossl {

std::string LastErrorText() {
  const unsigned long e = ERR_peek_last_error();
  char buf[256] = "";
  if (e != 0) ERR_error_string_n(e, buf, sizeof buf);
  ERR_clear_error();
  return buf;
}

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
