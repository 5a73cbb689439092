#pragma once

#include <libxml/tree.h>

#include <memory>
#include <string>

#include "kyso/base/bytes.h"
#include "kyso/base/status.h"

namespace kyso::xml {

struct DocFree {
  void operator()(xmlDoc* d) const noexcept { xmlFreeDoc(d); }
};
using DocPtr = std::unique_ptr<xmlDoc, DocFree>;

// HostileMessages words the four refusals for the caller's reader (an officer reads
// Vietnamese; an MSSP's operator reads English).
struct HostileMessages {
  std::string too_large;  // the input is over max_len bytes
  std::string doctype;    // it has a DOCTYPE
  std::string malformed;  // it is not well-formed
  std::string no_root;    // it has no root element
};

// ParseHostile parses XML from outside: the size is checked before parsing; the parser stops
// at "<!DOCTYPE" (before any entity is declared: no XXE, no billion laughs); no entity
// substitution, no DTD loading, no network, libxml2's depth and size limits kept; blanks
// kept (whitespace can be part of what is signed). Every refusal is kInvalidArgument with the
// caller's message.
Result<DocPtr> ParseHostile(ByteSpan xml, std::size_t max_len, const char* base_url,
                            const HostileMessages& messages);

}  // namespace kyso::xml
