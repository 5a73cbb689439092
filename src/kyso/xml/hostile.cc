#include "kyso/xml/hostile.h"

#include <libxml/parser.h>

#include <mutex>

namespace kyso::xml {

namespace {

struct CtxtFree {
  void operator()(xmlParserCtxt* c) const noexcept { xmlFreeParserCtxt(c); }
};

// RefuseDoctype replaces SAX2's internalSubset callback: the parser stops at "<!DOCTYPE name",
// before any entity is declared or the internal subset is read.
void RefuseDoctype(void* ctx, const xmlChar*, const xmlChar*, const xmlChar*) {
  auto* ctxt = static_cast<xmlParserCtxtPtr>(ctx);
  *static_cast<bool*>(ctxt->_private) = true;
  xmlStopParser(ctxt);
}

}  // namespace

Result<DocPtr> ParseHostile(ByteSpan xml, std::size_t max_len, const char* base_url,
                            const HostileMessages& m) {
  if (xml.size() > max_len) return InvalidArgumentError(m.too_large);
  static std::once_flag init;
  std::call_once(init, [] { xmlInitParser(); });
  std::unique_ptr<xmlParserCtxt, CtxtFree> ctxt(xmlNewParserCtxt());
  if (!ctxt) return InternalError("libxml2: no parser context");
  bool saw_doctype = false;
  ctxt->_private = &saw_doctype;
  ctxt->sax->internalSubset = RefuseDoctype;
  // No XML_PARSE_NOENT (entity substitution), XML_PARSE_DTDLOAD, XML_PARSE_DTDATTR or
  // XML_PARSE_HUGE (which lifts libxml2's depth and size limits); no network.
  const int options = XML_PARSE_NONET | XML_PARSE_NOERROR | XML_PARSE_NOWARNING;
  DocPtr doc(xmlCtxtReadMemory(ctxt.get(), reinterpret_cast<const char*>(xml.data()),
                               static_cast<int>(xml.size()), base_url, nullptr, options));
  if (saw_doctype || (doc && (doc->intSubset != nullptr || doc->extSubset != nullptr))) {
    return InvalidArgumentError(m.doctype);
  }
  if (!doc || !ctxt->wellFormed) return InvalidArgumentError(m.malformed);
  if (xmlDocGetRootElement(doc.get()) == nullptr) return InvalidArgumentError(m.no_root);
  return doc;
}

}  // namespace kyso::xml
