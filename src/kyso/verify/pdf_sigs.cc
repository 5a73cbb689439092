#include "kyso/verify/pdf_sigs.h"

#include "kyso/verify/algorithms.h"
#include "kyso/verify/cms_sigs.h"
#include "kyso/verify/prefix_digest.h"
#include "kyso/verify/signer_info.h"

#include <openssl/err.h>
#include <openssl/objects.h>

#include <algorithm>
#include <array>
#include <cctype>
#include <functional>
#include <map>
#include <memory>
#include <qpdf/Buffer.hh>
#include <qpdf/Pipeline.hh>
#include <qpdf/QPDF.hh>
#include <qpdf/QPDFExc.hh>
#include <qpdf/QPDFObjectHandle.hh>
#include <qpdf/QPDFXRefEntry.hh>
#include <set>
#include <stdexcept>
#include <string_view>
#include <utility>

#include "kyso/pkix/der.h"
#include "kyso/pkix/x509.h"

namespace kyso::verify {
namespace {

// kMaxRevisionEnds bounds the %%EOF markers considered; a file with more is hostile.
constexpr std::size_t kMaxRevisionEnds = 4096;
// kMaxWalk bounds the objects one walk of a revision (pages, fields, drawn objects) visits.
constexpr std::size_t kMaxWalk = 200000;
// kMaxDssItemLen bounds one decoded DSS stream; kMaxDssItems the items of one DSS array.
constexpr std::size_t kMaxDssItemLen = std::size_t{16} << 20;
constexpr std::size_t kMaxDssItems = 10000;
// kMaxGapLen bounds the hex string between the two ByteRange parts (64 MiB of hex is far more
// than any CMS with its revocation data).
constexpr std::size_t kMaxGapLen = std::size_t{64} << 20;
// kMaxDssTotalLen bounds what all DSS items decode to together.
constexpr std::size_t kMaxDssTotalLen = std::size_t{256} << 20;
// kMaxHashedLen bounds the bytes hashed for all signatures together (a hostile file may have
// hundreds of signatures whose ByteRanges each cover all of it); signatures past it are
// reported unchecked.
constexpr unsigned long long kMaxHashedLen = 16ULL << 30;

bool IsPdfSpace(char c) {
  return c == ' ' || c == '\n' || c == '\r' || c == '\t' || c == '\f' || c == '\0';
}

// RevisionEnd is where one revision ends: just after its %%EOF (min) or after the
// end-of-line that follows it (max).
struct RevisionEnd {
  std::size_t min = 0;
  std::size_t max = 0;
  std::size_t startxref = 0;  // the offset its startxref gives
};

// FindRevisionEnds finds each "startxref <offset> %%EOF" (ISO 32000-1 7.5.5): the end of the
// original document and of every incremental update. The first-page trailer of a linearized
// file ("startxref 0") is not an end. None found: the whole file is one revision.
std::vector<RevisionEnd> FindRevisionEnds(std::string_view text) {
  std::vector<RevisionEnd> ends;
  for (std::size_t at = text.find("%%EOF"); at != std::string_view::npos;
       at = text.find("%%EOF", at + 5)) {
    if (ends.size() >= kMaxRevisionEnds) break;
    std::size_t i = at;
    while (i > 0 && at - i < 64 && IsPdfSpace(text[i - 1])) --i;
    const std::size_t digits_end = i;
    while (i > 0 && digits_end - i < 20 && std::isdigit(static_cast<unsigned char>(text[i - 1]))) {
      --i;
    }
    if (i == digits_end) continue;
    const bool zero =
        text.substr(i, digits_end - i).find_first_not_of('0') == std::string_view::npos;
    const std::size_t digits_start = i;
    while (i > 0 && digits_start - i < 64 && IsPdfSpace(text[i - 1])) --i;
    if (i < 9 || text.substr(i - 9, 9) != "startxref" || zero) continue;
    RevisionEnd end{at + 5, at + 5, 0};
    for (std::size_t d = digits_start; d < digits_end; ++d) {
      end.startxref = end.startxref * 10 + static_cast<std::size_t>(text[d] - '0');
    }
    if (end.max < text.size() && text[end.max] == '\r') ++end.max;
    if (end.max < text.size() && text[end.max] == '\n') ++end.max;
    ends.push_back(end);
  }
  if (ends.empty()) ends.push_back({text.size(), text.size()});
  return ends;
}

void SortUnique(std::vector<QPDFObjGen>& v);

// XrefStreamObjects lists the objects that are cross-reference streams, where a startxref or
// a trailer's /XRefStm points ("12 0 obj"). qpdf reads them though no cross-reference table
// lists them (a stream's /Index may leave itself out), so a reference to such a number can
// lead to nothing in one revision and to the stream in a later one.
std::vector<QPDFObjGen> XrefStreamObjects(std::string_view text,
                                          const std::vector<RevisionEnd>& ends) {
  std::vector<std::size_t> offsets;
  for (const RevisionEnd& e : ends) offsets.push_back(e.startxref);
  for (std::size_t at = text.find("/XRefStm"); at != std::string_view::npos && offsets.size() < 2 * kMaxRevisionEnds;
       at = text.find("/XRefStm", at + 8)) {
    std::size_t i = at + 8;
    while (i < text.size() && IsPdfSpace(text[i])) ++i;
    std::size_t v = 0;
    for (std::size_t n = 0; i < text.size() && n < 18 && std::isdigit(static_cast<unsigned char>(text[i])); ++i, ++n) {
      v = v * 10 + static_cast<std::size_t>(text[i] - '0');
    }
    offsets.push_back(v);
  }
  std::vector<QPDFObjGen> out;
  for (std::size_t i : offsets) {
    auto number = [&](long long& v) {
      std::size_t n = 0;
      v = 0;
      for (; i < text.size() && n < 10 && std::isdigit(static_cast<unsigned char>(text[i])); ++i, ++n) {
        v = v * 10 + (text[i] - '0');
      }
      return n > 0;
    };
    while (i < text.size() && IsPdfSpace(text[i])) ++i;
    long long num = 0, gen = 0;
    if (!number(num)) continue;
    while (i < text.size() && IsPdfSpace(text[i])) ++i;
    if (!number(gen)) continue;
    while (i < text.size() && IsPdfSpace(text[i])) ++i;
    if (text.substr(i, 3) != "obj" || num > INT32_MAX || gen > INT32_MAX) continue;
    out.emplace_back(static_cast<int>(num), static_cast<int>(gen));
  }
  SortUnique(out);
  return out;
}

std::unique_ptr<QPDF> Open(ByteSpan data) {
  auto q = std::make_unique<QPDF>();
  q->setSuppressWarnings(true);
  q->setAttemptRecovery(true);
  q->processMemoryFile("document.pdf", reinterpret_cast<const char*>(data.data()), data.size());
  return q;
}

std::string OneLine(std::string what) {
  if (what.size() > 160) what = what.substr(0, 160) + "...";
  for (char& c : what) {
    if (c == '\n' || c == '\r') c = ' ';
  }
  return what;
}

QPDFObjectHandle Get(QPDFObjectHandle dict, const std::string& key) {
  return dict.isDictionary() ? dict.getKey(key) : QPDFObjectHandle::newNull();
}

std::string NameOf(QPDFObjectHandle h) { return h.isName() ? h.getName() : std::string(); }

// KeysOf lists the keys of dictionary `h` but those whose value is a direct null, without
// reading the objects the values refer to (qpdf's getKeys reads each, to leave out references
// to null or to nothing: for a catalog, most of the document). A reference counts as a value.
std::set<std::string> KeysOf(QPDFObjectHandle h) {
  std::set<std::string> keys;
  if (!h.isDictionary()) return keys;
  for (const auto& [key, value] : h.getDictAsMap()) {
    if (!value.isDirectNull()) keys.insert(keys.end(), key);
  }
  return keys;
}

// Reach adds to `out` every indirect object reachable from `start` (not following /Parent or
// /P, which lead back up the tree), spending `budget`; a reference to nothing too, so that what
// a later revision puts there counts as a change. `read`, when given, gets every object
// whose content the walk depends on: `start` and each reference it meets (one that leads to
// nothing too, and those the budget leaves unvisited), possibly more than once.
void Reach(QPDFObjectHandle start, std::set<QPDFObjGen>& out, std::size_t& budget,
           const std::set<std::string>& skip = {}, std::vector<QPDFObjGen>* read = nullptr) {
  if (read != nullptr && start.isIndirect()) read->push_back(start.getObjGen());
  std::vector<QPDFObjectHandle> todo{start};
  while (!todo.empty() && budget > 0) {
    QPDFObjectHandle h = todo.back();
    todo.pop_back();
    --budget;
    if (h.isIndirect() && !out.insert(h.getObjGen()).second) continue;
    if (h.isStream()) h = h.getDict();
    if (h.isDictionary()) {
      for (const auto& [key, value] : h.getDictAsMap()) {
        if (key == "/Parent" || key == "/P" || skip.count(key)) continue;
        if (read != nullptr && value.isIndirect()) read->push_back(value.getObjGen());
        if (!value.isDirectNull()) todo.push_back(value);
      }
    } else if (h.isArray()) {
      for (QPDFObjectHandle item : h.getArrayAsVector()) {
        if (read != nullptr && item.isIndirect()) read->push_back(item.getObjGen());
        todo.push_back(item);
      }
    }
  }
}

// SameValue compares two objects structurally: numbers by value (612.0 is 612), references
// below the top (depth > 0) by object number (not followed), at most 32 levels and 100000
// items deep.
bool SameValue(QPDFObjectHandle a, QPDFObjectHandle b, int depth, std::size_t& budget) {
  if (depth > 32 || budget == 0) return false;
  --budget;
  if (depth > 0 && (a.isIndirect() || b.isIndirect())) {
    return a.isIndirect() && b.isIndirect() && a.getObjGen() == b.getObjGen();
  }
  if (a.isNumber() && b.isNumber()) return a.getNumericValue() == b.getNumericValue();
  if (a.isDictionary() && b.isDictionary()) {
    const std::set<std::string> ka = KeysOf(a), kb = KeysOf(b);
    if (ka != kb) return false;
    for (const std::string& k : ka) {
      if (!SameValue(a.getKey(k), b.getKey(k), depth + 1, budget)) return false;
    }
    return true;
  }
  if (a.isArray() && b.isArray()) {
    const int n = a.getArrayNItems();
    if (n != b.getArrayNItems()) return false;
    for (int i = 0; i < n; ++i) {
      if (!SameValue(a.getArrayItem(i), b.getArrayItem(i), depth + 1, budget)) return false;
    }
    return true;
  }
  // At the top the handles may be references: compare what they lead to (below the top,
  // references returned above).
  return a.unparseResolved() == b.unparseResolved();
}

// SameValue compares two values found in objects (a reference is equal only to itself).
bool SameValue(QPDFObjectHandle a, QPDFObjectHandle b) {
  std::size_t budget = 100000;
  return SameValue(a, b, 1, budget);
}

// kMaxCompareStreamLen bounds the raw stream data compared to see whether a rewritten stream
// object changed; longer ones count as changed.
constexpr std::size_t kMaxCompareStreamLen = std::size_t{8} << 20;

// SameObject tells whether the new version of an object equals the old one (a writer that
// rewrites unchanged objects, as many do).
bool SameObject(QPDFObjectHandle a, QPDFObjectHandle b) {
  if (a.isStream() != b.isStream()) return false;
  std::size_t budget = 100000;
  if (!a.isStream()) return SameValue(a, b, 0, budget);
  if (!SameValue(a.getDict(), b.getDict(), 0, budget)) return false;
  QPDFObjectHandle la = a.getDict().getKey("/Length");
  if (!la.isInteger() || la.getIntValue() < 0 ||
      static_cast<std::size_t>(la.getIntValue()) > kMaxCompareStreamLen) {
    return false;
  }
  std::shared_ptr<Buffer> da = a.getRawStreamData();
  std::shared_ptr<Buffer> db = b.getRawStreamData();
  return da && db && da->getSize() == db->getSize() &&
         std::equal(da->getBuffer(), da->getBuffer() + da->getSize(), db->getBuffer());
}

// kDrawingKeys are keys that mean something in the dictionaries a name map binds (graphics
// states, appearance dictionaries, XObjects, fonts): a dictionary gaining one of them has not
// just gained a name (a graphics state gaining /SMask, an appearance gaining /N).
const std::set<std::string>& DrawingKeys() {
  static const std::set<std::string> keys = {
      // ExtGState (ISO 32000-1 Table 58)
      "/LW", "/LC", "/LJ", "/ML", "/D", "/RI", "/OP", "/op", "/OPM", "/Font", "/BG", "/BG2",
      "/UCR", "/UCR2", "/TR", "/TR2", "/HT", "/FL", "/SM", "/SA", "/BM", "/SMask", "/CA", "/ca",
      "/AIS", "/TK",
      // appearance dictionaries and states
      "/N", "/R",
      // streams, XObjects, images, fonts
      "/Type", "/Subtype", "/Length", "/Filter", "/DecodeParms", "/BBox", "/Matrix",
      "/Resources", "/Group", "/Mask", "/Decode", "/ImageMask", "/Intent", "/OC", "/Width",
      "/Height", "/ColorSpace", "/BitsPerComponent", "/BaseFont", "/Encoding", "/Widths",
      "/FirstChar", "/LastChar", "/FontDescriptor", "/ToUnicode", "/DescendantFonts",
      "/FontMatrix", "/CharProcs"};
  return keys;
}

// NameMapOnlyAdds tells whether name map `b` (a resource category: /Font << /F1 5 0 R >>) is
// `a` with names added: a new name changes nothing that is drawn until content uses it. A name
// rebound, or a key that means something to a graphics state, appearance, XObject or font
// (DrawingKeys), is a change.
bool NameMapOnlyAdds(QPDFObjectHandle a, QPDFObjectHandle b) {
  if (!a.isDictionary() || !b.isDictionary()) return false;
  const std::map<std::string, QPDFObjectHandle> ma = a.getDictAsMap(), mb = b.getDictAsMap();
  for (const auto& [key, value] : ma) {
    auto it = mb.find(key);
    if (it == mb.end() ? !value.isDirectNull() : !SameValue(value, it->second)) return false;
  }
  for (const auto& [key, value] : mb) {
    if (!ma.count(key) && DrawingKeys().count(key)) return false;
  }
  return true;
}

// OnlyAddsResources tells whether `b` is `a` with resources added by name: a resource
// dictionary (/Font, /XObject, ... each a name map, direct or indirect) whose name maps only
// gain names (NameMapOnlyAdds) and which only gains categories (and may change /ProcSet, which
// PDF 1.4 on ignores), or a name map on its own.
bool OnlyAddsResources(QPDFObjectHandle a, QPDFObjectHandle b) {
  if (!a.isDictionary() || !b.isDictionary() || a.hasKey("/Type") || a.hasKey("/Subtype")) {
    return false;
  }
  if (NameMapOnlyAdds(a, b)) return true;
  static const std::set<std::string> kCategories = {"/Font",    "/XObject", "/ExtGState",
                                                    "/ColorSpace", "/Pattern", "/Shading",
                                                    "/Properties"};
  const std::map<std::string, QPDFObjectHandle> ma = a.getDictAsMap(), mb = b.getDictAsMap();
  for (const auto& [key, value] : mb) {
    auto it = ma.find(key);
    if (key == "/ProcSet" || (it != ma.end() && SameValue(it->second, value))) continue;
    if (!kCategories.count(key)) return false;
    // A category added, or one whose map gained names.
    if (it != ma.end() &&
        (it->second.isIndirect() || value.isIndirect() || !NameMapOnlyAdds(it->second, value))) {
      return false;
    }
  }
  for (const auto& [key, value] : ma) {
    if (!mb.count(key) && !value.isDirectNull() && key != "/ProcSet") return false;
  }
  return true;
}

// InheritedFieldType is a field's /FT, from it or its ancestors.
std::string InheritedFieldType(QPDFObjectHandle field) {
  std::set<QPDFObjGen> seen;
  for (int depth = 0; depth < 32 && field.isDictionary(); ++depth) {
    if (field.hasKey("/FT")) return NameOf(field.getKey("/FT"));
    if (field.isIndirect() && !seen.insert(field.getObjGen()).second) break;
    field = field.getKey("/Parent");
  }
  return {};
}

// SigValueClass is "timestamp" for a document timestamp dictionary, else "signature".
std::string SigValueClass(QPDFObjectHandle v) {
  if (NameOf(Get(v, "/Type")) == "/DocTimeStamp" ||
      NameOf(Get(v, "/SubFilter")) == "/ETSI.RFC3161") {
    return "timestamp";
  }
  return "signature";
}

// SortUnique sorts `v` and drops repeats.
void SortUnique(std::vector<QPDFObjGen>& v) {
  std::sort(v.begin(), v.end());
  v.erase(std::unique(v.begin(), v.end()), v.end());
}

// FieldVisitor gets each terminal field: its full name, the field, its inherited /FT.
using FieldVisitor = std::function<void(const std::string&, QPDFObjectHandle, const std::string&)>;

// FieldNode is what walking the field tree reads of one indirect node: whether it is a
// dictionary, whether it has /T and what (UTF-8, when a string), its /FT, its kids that are
// fields (dictionaries with /T), and the objects all that was read from (sorted). It holds
// while none of them changes.
struct FieldNode {
  bool dict = false;
  bool has_t = false;
  std::optional<QPDFObjGen> t_ref;  // /T, when indirect
  std::optional<std::string> t;
  std::optional<std::string> ft;
  std::vector<QPDFObjGen> field_kids;
  std::vector<QPDFObjGen> read;
};

// FieldNodes keeps the FieldNode of each node walks read in the revision of `q`.
struct FieldNodes {
  QPDF* q = nullptr;
  std::map<QPDFObjGen, FieldNode> nodes;
};

// ReadFieldNode reads what the walk needs of node `h` into `n` and its field kids, in order,
// into `kids`; whether a kid is a field comes from `cache` when it has the kid. False when a
// field kid is direct: `n` then cannot stand for the node.
bool ReadFieldNode(QPDFObjectHandle h, FieldNode& n, std::vector<QPDFObjectHandle>& kids,
                   const FieldNodes* cache) {
  auto note = [&](QPDFObjectHandle x) {
    if (x.isIndirect()) n.read.push_back(x.getObjGen());
  };
  bool all_indirect = true;
  note(h);
  n.dict = h.isDictionary();
  if (n.dict) {
    QPDFObjectHandle t = h.getKey("/T");
    note(t);
    if (t.isIndirect()) n.t_ref = t.getObjGen();
    if (t.isString()) n.t = t.getUTF8Value();
    n.has_t = h.hasKey("/T");
    QPDFObjectHandle ft = h.getKey("/FT");
    note(ft);
    if (h.hasKey("/FT")) n.ft = NameOf(ft);
    QPDFObjectHandle list = h.getKey("/Kids");
    note(list);
    if (list.isArray()) {
      for (QPDFObjectHandle k : list.getArrayAsVector()) {
        note(k);
        auto known = k.isIndirect() && cache != nullptr ? cache->nodes.find(k.getObjGen())
                                                        : std::map<QPDFObjGen, FieldNode>::const_iterator();
        if (k.isIndirect() && cache != nullptr && known != cache->nodes.end()) {
          if (known->second.t_ref) n.read.push_back(*known->second.t_ref);
          if (!known->second.dict || !known->second.has_t) continue;
        } else {
          if (!k.isDictionary()) continue;
          note(k.getKey("/T"));
          if (!k.hasKey("/T")) continue;
        }
        kids.push_back(k);
        if (k.isIndirect()) {
          n.field_kids.push_back(k.getObjGen());
        } else {
          all_indirect = false;
        }
      }
    }
  }
  SortUnique(n.read);
  return all_indirect;
}

// WalkFieldTree visits the field tree below `top` (an entry of /Fields) in order, each node
// once (`seen` is shared by the entries), spending `budget`. With `cache`, an indirect node is
// read only when the cache lacks it, and what was read is kept there.
void WalkFieldTree(QPDFObjectHandle top, std::set<QPDFObjGen>& seen, std::size_t& budget,
                   const FieldVisitor& visit, FieldNodes* cache) {
  struct Node {
    QPDFObjectHandle h;
    std::string parent_name;
    std::string ft;
  };
  std::vector<Node> todo{{top, "", ""}};
  while (!todo.empty() && budget > 0) {
    --budget;
    Node n = std::move(todo.back());
    todo.pop_back();
    const bool indirect = n.h.isIndirect();
    const FieldNode* node = nullptr;
    FieldNode fresh;
    std::vector<QPDFObjectHandle> kids;
    auto cached = cache != nullptr && indirect ? cache->nodes.find(n.h.getObjGen())
                                               : std::map<QPDFObjGen, FieldNode>::iterator();
    if (cache != nullptr && indirect && cached != cache->nodes.end()) {
      node = &cached->second;
      for (const QPDFObjGen& og : node->field_kids) kids.push_back(cache->q->getObjectByObjGen(og));
    } else if (ReadFieldNode(n.h, fresh, kids, cache) && cache != nullptr && indirect) {
      node = &cache->nodes.emplace(n.h.getObjGen(), std::move(fresh)).first->second;
    } else {
      node = &fresh;
    }
    if (!node->dict) continue;
    if (indirect && !seen.insert(n.h.getObjGen()).second) continue;
    std::string name = n.parent_name;
    if (node->t) name = name.empty() ? *node->t : name + "." + *node->t;
    const std::string ft = node->ft ? *node->ft : n.ft;
    for (auto it = kids.rbegin(); it != kids.rend(); ++it) todo.push_back({*it, name, ft});
    if (kids.empty()) visit(name, n.h, ft);
  }
}

// WalkFields visits the AcroForm field tree in order, each node once, at most kMaxWalk nodes.
void WalkFields(QPDFObjectHandle root, const FieldVisitor& visit) {
  QPDFObjectHandle fields = Get(Get(root, "/AcroForm"), "/Fields");
  if (!fields.isArray()) return;
  std::set<QPDFObjGen> seen;
  std::size_t budget = kMaxWalk;
  for (QPDFObjectHandle top : fields.getArrayAsVector()) {
    if (budget == 0) break;
    WalkFieldTree(top, seen, budget, visit, nullptr);
  }
}

// CappedBuffer keeps what a stream decodes to. Past `cap` bytes, or past what is left of the
// shared `budget`, it throws, which stops qpdf's decoding (a compression bomb costs no more
// than the cap).
class CappedBuffer final : public Pipeline {
 public:
  CappedBuffer(std::size_t cap, std::size_t& budget)
      : Pipeline("capped", nullptr), cap_(cap), budget_(budget) {}
  void write(unsigned char const* data, size_t len) override {
    if (out_.size() + len > cap_ || len > budget_) throw std::length_error("stream too long");
    budget_ -= len;
    out_.insert(out_.end(), data, data + len);
  }
  void finish() override {}
  Bytes out_;

 private:
  std::size_t cap_;
  std::size_t& budget_;
};

// Edges is what Reach meets in the value of one object (a stream: its dictionary), direct
// values inside it included: how many items it puts on the walk, the references among them in
// order, and the references `read` gets (a key whose value refers to nothing among them).
struct Edges {
  std::size_t pushes = 0;
  std::vector<QPDFObjGen> pushed;
  std::vector<QPDFObjGen> read;
};

// ExpandValue is what Reach meets in `h` (not following /Parent or /P), as Reach meets it.
Edges ExpandValue(QPDFObjectHandle h) {
  Edges e;
  std::vector<QPDFObjectHandle> todo{h};
  auto push = [&](QPDFObjectHandle item) {
    ++e.pushes;
    if (item.isIndirect()) {
      e.pushed.push_back(item.getObjGen());
    } else if (item.isDictionary() || item.isArray()) {
      todo.push_back(item);
    }
  };
  while (!todo.empty()) {
    QPDFObjectHandle x = todo.back();
    todo.pop_back();
    if (x.isStream()) x = x.getDict();
    if (x.isDictionary()) {
      for (const auto& [key, value] : x.getDictAsMap()) {
        if (key == "/Parent" || key == "/P") continue;
        if (value.isIndirect()) e.read.push_back(value.getObjGen());
        if (!value.isDirectNull()) push(value);
      }
    } else if (x.isArray()) {
      for (QPDFObjectHandle item : x.getArrayAsVector()) {
        if (item.isIndirect()) e.read.push_back(item.getObjGen());
        push(item);
      }
    }
  }
  return e;
}

// ---------------------------------------------------------------------------------------------
// Snapshot: what one revision holds, for comparing it with the next.

struct FieldState {
  bool sig = false;
  bool has_value = false;
  std::string name;  // fully qualified
};

struct Snapshot {
  std::shared_ptr<QPDF> q;
  std::map<QPDFObjGen, QPDFXRefEntry> xref;
  // The file's cross-reference streams (XrefStreamObjects), counted as changed by every
  // revision: what a reference to one leads to is not in any table.
  const std::vector<QPDFObjGen>* xref_streams = nullptr;
  QPDFObjGen root, info, metadata, acroform;
  std::vector<QPDFObjGen> pages;
  std::map<QPDFObjGen, std::size_t> page_index;
  std::vector<std::vector<QPDFObjGen>> page_annots;
  std::set<QPDFObjGen> page_tree;                // /Pages nodes
  std::set<QPDFObjGen> drawn;                    // reachable from a page's /Contents or /Resources
  std::set<QPDFObjGen> content_streams;          // the streams of the pages' /Contents
  std::set<QPDFObjGen> annots_arrays;            // indirect /Annots arrays
  std::map<QPDFObjGen, std::string> annots;      // annotation -> class of a change to it
  std::map<QPDFObjGen, std::string> appearance;  // objects of annotations' /AP -> class
  std::map<QPDFObjGen, FieldState> fields;
  std::set<QPDFObjGen> field_values;  // indirect /V of fields other than signatures
  std::set<QPDFObjGen> sig_values;    // signature dictionaries
  std::set<QPDFObjGen> dss;           // the DSS and everything in it
  std::set<QPDFObjGen> form_extra;    // reachable from the AcroForm but not by /Fields (/DR)
  std::set<QPDFObjGen> structure;     // the logical structure tree (not drawn): see Structure
  // reached: everything the catalog leads to (not following /Parent or /P, nor into the
  // structure tree), references to nothing included; a walk of its own, with a budget of its
  // own. Not the trailer's other
  // entries: each update writes its own trailer (LibreOffice's /AdditionalStreams may name an
  // object number a later update uses for something else).
  std::set<QPDFObjGen> reached;
  // field_of names the form fields (fully qualified) of each field, its widgets, its indirect
  // /V and what its /AP reaches, for FieldMDP.
  // An appearance's font or other resource may serve several fields: all are named (up to 16).
  std::map<QPDFObjGen, std::vector<std::string>> field_of;

  // What the next revision may reuse instead of walking again (BuildSnapshot with `memo`): each
  // result with the objects it read (sorted); it holds while none of them changed.
  struct AnnotMemo {
    std::string klass;             // AnnotClass
    std::vector<QPDFObjGen> ap;    // what its /AP reaches, sorted
    std::size_t cost = 0;          // the budget that walk spent
    std::vector<QPDFObjGen> read;  // what both read
  };
  struct FieldMemo {
    std::string name;  // the field's, and its /FT /Sig: what it was walked with
    bool sig = false;
    bool has_value = false;
    bool value_indirect = false;
    QPDFObjGen value;
    std::vector<QPDFObjGen> belongs;  // in order: what field_of names it in
    std::size_t cost = 0;             // the field budget it spent
    std::vector<QPDFObjGen> read;
  };
  struct PageInputs {
    std::string contents, resources;  // InputKey of a page's /Contents and (inherited) /Resources
    std::vector<QPDFObjGen> read;     // the page and the /Parent chain read for them, sorted
  };
  struct PageAnnots {
    std::vector<QPDFObjGen> read;       // the page and its /Annots when indirect, sorted
    std::optional<QPDFObjGen> array;    // /Annots, when indirect
    std::vector<QPDFObjGen> items;      // the indirect entries of /Annots, in order
  };
  bool memo = false;    // what follows was recorded
  bool warned = false;  // see Warned
  // The page tree walk: from the catalog's /Pages, what it read, what it spent.
  bool tree_memo = false;
  QPDFObjGen pages_root;
  std::vector<QPDFObjGen> tree_read;
  std::size_t tree_cost = 0;
  bool drawn_memo = false;              // drawn and content_streams may be reused
  std::vector<PageInputs> page_inputs;  // what they were reached from, page by page
  std::size_t drawn_cost = 0;           // the budget that walk spent
  std::vector<QPDFObjGen> drawn_read;
  std::vector<PageAnnots> page_annot_lists;  // page by page
  std::map<QPDFObjGen, AnnotMemo> annot_memo;
  // The field tree: /Fields (the form and the array, what was read to find them), its entries,
  // and the walk below each.
  bool fields_memo = false;
  std::vector<QPDFObjGen> fields_read;
  std::vector<QPDFObjGen> fields_top;
  FieldNodes field_nodes;
  std::map<QPDFObjGen, FieldMemo> field_memo;
  bool structure_known = false;  // `structure` was walked (or taken over)
  QPDFObjectHandle struct_start;  // /StructTreeRoot
  QPDFObjGen struct_root;  // the indirect /StructTreeRoot `structure` was reached from
  std::vector<QPDFObjGen> struct_read;
  // edges: what Reach met in each object it expanded (see ReachReusing); an object the next
  // revision leaves unchanged meets the same there.
  std::map<QPDFObjGen, Edges> edges;
};

// Warned tells whether qpdf has warned while reading `s`, other than that the trailer's /Size
// is not one more than the highest object number (harmless: every object is read as written).
bool Warned(Snapshot& s) {
  for (const QPDFExc& w : s.q->getWarnings()) {
    if (w.getMessageDetail().rfind("reported number of objects (", 0) != 0) s.warned = true;
  }
  return s.warned;
}

// AnyOf tells whether sorted `read` holds one of `changed`.
bool AnyOf(const std::set<QPDFObjGen>& changed, const std::vector<QPDFObjGen>& read) {
  for (const QPDFObjGen& og : changed) {
    if (std::binary_search(read.begin(), read.end(), og)) return true;
  }
  return false;
}

// AnnotClass is the class of adding or changing annotation `a`.
std::string AnnotClass(QPDFObjectHandle a) {
  if (NameOf(Get(a, "/Subtype")) != "/Widget") return "annotation";
  if (InheritedFieldType(a) != "/Sig") return "form_fill";
  QPDFObjectHandle f = a;
  std::set<QPDFObjGen> seen;
  for (int depth = 0; depth < 32 && f.isDictionary(); ++depth) {
    if (f.hasKey("/V")) return SigValueClass(f.getKey("/V"));
    if (f.isIndirect() && !seen.insert(f.getObjGen()).second) break;
    f = f.getKey("/Parent");
  }
  return "signature";
}

// AnnotClassReads lists (at least) the objects AnnotClass(a) reads: `a` and its /Parent chain,
// what their /Subtype, /FT, /V and /Parent refer to, and what the /Type and /SubFilter of their
// /V refer to.
std::vector<QPDFObjGen> AnnotClassReads(QPDFObjectHandle a) {
  std::vector<QPDFObjGen> read;
  if (a.isIndirect()) read.push_back(a.getObjGen());  // even when it is no dictionary
  auto entries = [&](QPDFObjectHandle d, std::initializer_list<const char*> keys) {
    if (!d.isDictionary()) return;
    for (const char* key : keys) {
      QPDFObjectHandle value = d.getKey(key);
      if (value.isIndirect()) read.push_back(value.getObjGen());
    }
  };
  std::set<QPDFObjGen> seen;
  QPDFObjectHandle f = a;
  for (int depth = 0; depth < 33 && f.isDictionary(); ++depth) {
    if (f.isIndirect()) {
      read.push_back(f.getObjGen());
      if (!seen.insert(f.getObjGen()).second) break;
    }
    entries(f, {"/Subtype", "/FT", "/V", "/Parent"});
    entries(f.getKey("/V"), {"/Type", "/SubFilter"});
    f = f.getKey("/Parent");
  }
  return read;
}

bool SameEntry(const QPDFXRefEntry& a, const QPDFXRefEntry& b);

// ChangedObjects lists the objects whose cross-reference entry is not the same in `prev` and
// `now` (added, removed, moved), and those stored in an object stream that is, or whose
// dictionary refers to one that is.
std::set<QPDFObjGen> ChangedObjects(Snapshot& prev, const Snapshot& now) {
  const std::map<QPDFObjGen, QPDFXRefEntry>& a = prev.xref;
  const std::map<QPDFObjGen, QPDFXRefEntry>& b = now.xref;
  std::set<QPDFObjGen> changed;
  for (const auto& [og, entry] : a) {
    auto it = b.find(og);
    if (it == b.end() || !SameEntry(entry, it->second)) changed.insert(og);
  }
  for (const auto& [og, entry] : b) {
    if (!a.count(og)) changed.insert(og);
  }
  std::set<int> streams;
  for (const auto* table : {&a, &b}) {
    for (const auto& [og, entry] : *table) {
      if (entry.getType() == 2) streams.insert(entry.getObjStreamNumber());
    }
  }
  // What an object stream holds depends on its dictionary (/Length, /Filter, /DecodeParms) and
  // what that refers to.
  std::set<int> changed_streams;
  for (const int n : streams) {
    auto same_number = changed.lower_bound(QPDFObjGen(n, 0));
    std::set<QPDFObjGen> reached;
    std::vector<QPDFObjGen> read;
    std::size_t budget = 1000;
    Reach(prev.q->getObjectByObjGen(QPDFObjGen(n, 0)), reached, budget, {}, &read);
    SortUnique(read);
    if ((same_number != changed.end() && same_number->getObj() == n) || budget == 0 ||
        AnyOf(changed, read)) {
      changed_streams.insert(n);
    }
  }
  for (const auto* table : {&a, &b}) {
    for (const auto& [og, entry] : *table) {
      if (entry.getType() == 2 && changed_streams.count(entry.getObjStreamNumber())) {
        changed.insert(og);
      }
    }
  }
  return changed;
}

// ReachReusing is Reach (skipping no more keys) in revision `s`: with s.memo, what an object
// meets comes from s.edges for the objects expanded before (in this revision or, unchanged, in
// the one before) instead of reading them again, and is recorded there for those it reads.
// The result is Reach's: a walk that would not fit in `budget` is left to Reach itself.
void ReachReusing(Snapshot& s, QPDFObjectHandle start, std::set<QPDFObjGen>& out,
                  std::size_t& budget, std::vector<QPDFObjGen>* read = nullptr) {
  if (!s.memo) return Reach(start, out, budget, {}, read);
  std::size_t cost = 1;  // popping `start`
  std::vector<QPDFObjGen> todo, added, reads;
  std::set<QPDFObjGen> added_set;
  auto expand = [&](const Edges& e) {
    cost += e.pushes;
    todo.insert(todo.end(), e.pushed.rbegin(), e.pushed.rend());
    if (read != nullptr) reads.insert(reads.end(), e.read.begin(), e.read.end());
  };
  if (start.isIndirect()) {
    reads.push_back(start.getObjGen());
    todo.push_back(start.getObjGen());
  } else {
    expand(ExpandValue(start));
  }
  while (!todo.empty() && cost <= budget) {
    const QPDFObjGen og = todo.back();
    todo.pop_back();
    if (out.count(og) || !added_set.insert(og).second) continue;
    added.push_back(og);
    auto it = s.edges.find(og);
    if (it == s.edges.end()) it = s.edges.emplace(og, ExpandValue(s.q->getObjectByObjGen(og))).first;
    expand(it->second);
  }
  if (cost > budget) return Reach(start, out, budget, {}, read);
  out.insert(added.begin(), added.end());
  budget -= cost;
  if (read != nullptr) read->insert(read->end(), reads.begin(), reads.end());
}

// InputKey stands for what a walk from `h` starts with: the object it refers to, or the direct
// value as written (references in it not followed).
std::string InputKey(QPDFObjectHandle h) {
  if (h.isIndirect()) {
    return "R " + std::to_string(h.getObjectID()) + " " + std::to_string(h.getGeneration());
  }
  return "D " + h.unparse();
}

// Unchanged tells whether none of sorted `read` is in `changed`.
bool Unchanged(const std::set<QPDFObjGen>& changed, const std::vector<QPDFObjGen>& read) {
  return !AnyOf(changed, read);
}

// BuildSnapshot reads the revision `prefix` into `s` (with `opened`, that revision already
// opened). With `memo`, it records what the next revision may reuse; with `prev` too (the
// revision before, recorded), it reuses what `prev` recorded that depends on no object this
// revision changed, reading only what changed. Reuse is exact only while qpdf reads every
// object as it is written: ReadAll redoes the work without it if qpdf warned or failed.
void BuildSnapshot(ByteSpan prefix, Snapshot& s, bool memo, Snapshot* prev,
                   std::shared_ptr<QPDF> opened = nullptr) {
  s.q = opened ? std::move(opened) : std::shared_ptr<QPDF>(Open(prefix));
  QPDF& q = *s.q;
  s.xref = q.getXRefTable();
  s.memo = memo;
  const bool reuse = memo && prev != nullptr && prev->memo && !Warned(*prev) &&
                     !prev->q->isEncrypted() && !Warned(s) && !q.isEncrypted();
  std::set<QPDFObjGen> changed;
  if (reuse) {
    changed = ChangedObjects(*prev, s);
    if (s.xref_streams != nullptr) changed.insert(s.xref_streams->begin(), s.xref_streams->end());
    s.edges = std::move(prev->edges);
    for (const QPDFObjGen& og : changed) s.edges.erase(og);
    s.field_nodes.nodes = std::move(prev->field_nodes.nodes);
    std::erase_if(s.field_nodes.nodes, [&](const auto& entry) {
      return !Unchanged(changed, entry.second.read);
    });
  }
  QPDFObjectHandle trailer = q.getTrailer();
  QPDFObjectHandle root = trailer.getKey("/Root");
  s.root = root.getObjGen();
  s.info = trailer.getKey("/Info").getObjGen();
  s.metadata = Get(root, "/Metadata").getObjGen();
  QPDFObjectHandle form = Get(root, "/AcroForm");
  if (form.isIndirect()) s.acroform = form.getObjGen();
  std::size_t budget = kMaxWalk;

  // The page tree, each node once. The walk goes the same while nothing it read changed but
  // pages that still are pages (dictionaries without /Kids).
  QPDFObjectHandle pages_root = Get(root, "/Pages");
  bool reuse_tree = reuse && prev->tree_memo && pages_root.isIndirect() &&
                    pages_root.getObjGen() == prev->pages_root && prev->tree_cost < budget;
  std::vector<QPDFObjGen> leaf_kids;  // what the changed pages' /Kids refer to (not arrays)
  for (auto it = changed.begin(); reuse_tree && it != changed.end(); ++it) {
    if (!std::binary_search(prev->tree_read.begin(), prev->tree_read.end(), *it)) continue;
    QPDFObjectHandle page = q.getObjectByObjGen(*it);
    QPDFObjectHandle kids = page.isDictionary() ? page.getKey("/Kids") : QPDFObjectHandle();
    reuse_tree = prev->page_index.count(*it) && page.isDictionary() && !kids.isArray();
    if (kids.isIndirect()) leaf_kids.push_back(kids.getObjGen());
  }
  if (reuse_tree) {
    s.pages = prev->pages;
    s.page_index = prev->page_index;
    s.page_tree = prev->page_tree;
    s.tree_read = prev->tree_read;
    s.tree_read.insert(s.tree_read.end(), leaf_kids.begin(), leaf_kids.end());
    SortUnique(s.tree_read);
    s.tree_cost = prev->tree_cost;
    budget -= s.tree_cost;
  } else {
    std::vector<QPDFObjectHandle> todo{pages_root};
    std::set<QPDFObjGen> seen;
    while (!todo.empty() && budget > 0) {
      QPDFObjectHandle n = todo.back();
      todo.pop_back();
      --budget;
      if (memo && n.isIndirect()) s.tree_read.push_back(n.getObjGen());
      if (!n.isDictionary() || (n.isIndirect() && !seen.insert(n.getObjGen()).second)) continue;
      QPDFObjectHandle kids = n.getKey("/Kids");
      if (memo && kids.isIndirect()) s.tree_read.push_back(kids.getObjGen());
      if (kids.isArray()) {
        if (n.isIndirect()) s.page_tree.insert(n.getObjGen());
        std::vector<QPDFObjectHandle> k = kids.getArrayAsVector();
        for (auto it = k.rbegin(); it != k.rend(); ++it) todo.push_back(*it);
      } else if (n.isIndirect()) {
        s.page_index[n.getObjGen()] = s.pages.size();
        s.pages.push_back(n.getObjGen());
      }
    }
    s.tree_cost = kMaxWalk - budget;
    SortUnique(s.tree_read);
  }
  // A walk the budget may have cut short is not reused.
  s.tree_memo = memo && pages_root.isIndirect() && budget > 0;
  if (s.tree_memo) s.pages_root = pages_root.getObjGen();

  // Inherited resources are reached through the page tree node that holds them.
  // `read` gets every reference followed: a /Resources that leads to null or nothing is passed
  // over for the inherited one, which changes when the object it refers to appears.
  auto resources_of = [](QPDFObjectHandle page, std::vector<QPDFObjGen>* read) {
    auto note = [&](QPDFObjectHandle h) {
      if (read != nullptr && h.isIndirect()) read->push_back(h.getObjGen());
    };
    QPDFObjectHandle res = page.getKey("/Resources");
    note(res);
    for (int up = 0; up < 32 && res.isNull(); ++up) {
      page = page.getKey("/Parent");
      note(page);
      if (!page.isDictionary()) break;
      res = page.getKey("/Resources");
      note(res);
    }
    return res;
  };
  // What page i draws from: the page (and its /Parent chain) unchanged, the same as before;
  // otherwise read again.
  auto page_inputs = [&](std::size_t i) {
    if (reuse && i < prev->page_inputs.size() && i < prev->pages.size() &&
        prev->pages[i] == s.pages[i] && Unchanged(changed, prev->page_inputs[i].read)) {
      return prev->page_inputs[i];
    }
    Snapshot::PageInputs in;
    QPDFObjectHandle page = q.getObjectByObjGen(s.pages[i]);
    in.read.push_back(s.pages[i]);
    in.contents = InputKey(page.getKey("/Contents"));
    in.resources = InputKey(resources_of(page, &in.read));
    SortUnique(in.read);
    return in;
  };
  // The pages draw the same when each page has the same /Contents and resources (the same
  // objects, or direct values that are the same), none of the objects that led to changed, and
  // the walk stops short of the budget.
  bool reuse_drawn = reuse && prev->drawn_memo && prev->page_inputs.size() == s.pages.size() &&
                     prev->drawn_cost < budget && Unchanged(changed, prev->drawn_read);
  if (memo) {
    for (std::size_t i = 0; i < s.pages.size(); ++i) {
      s.page_inputs.push_back(page_inputs(i));
      const Snapshot::PageInputs& in = s.page_inputs.back();
      reuse_drawn = reuse_drawn && in.contents == prev->page_inputs[i].contents &&
                    in.resources == prev->page_inputs[i].resources;
    }
  }
  if (reuse_drawn) {
    s.drawn = prev->drawn;
    s.content_streams = prev->content_streams;
    s.drawn_cost = prev->drawn_cost;
    s.drawn_read = prev->drawn_read;
    budget -= s.drawn_cost;
  } else {
    const std::size_t budget_before = budget;
    std::vector<QPDFObjGen>* read = memo ? &s.drawn_read : nullptr;
    for (const QPDFObjGen& og : s.pages) {
      QPDFObjectHandle page = q.getObjectByObjGen(og);
      QPDFObjectHandle contents = page.getKey("/Contents");
      ReachReusing(s, contents, s.drawn, budget, read);
      for (QPDFObjectHandle c : contents.isArray() ? contents.getArrayAsVector()
                                                   : std::vector<QPDFObjectHandle>{contents}) {
        if (c.isIndirect() && c.isStream()) s.content_streams.insert(c.getObjGen());
      }
      ReachReusing(s, resources_of(page, nullptr), s.drawn, budget, read);
    }
    s.drawn_cost = budget_before - budget;
    SortUnique(s.drawn_read);
  }
  // A walk the budget may have cut short is not reused.
  s.drawn_memo = memo && budget > 0;

  // The annotations of each page: its /Annots (the same while the page and an indirect /Annots
  // are), then each annotation's class and appearance.
  for (std::size_t i = 0; i < s.pages.size(); ++i) {
    Snapshot::PageAnnots list;
    if (reuse && i < prev->page_annot_lists.size() && i < prev->pages.size() &&
        prev->pages[i] == s.pages[i] && Unchanged(changed, prev->page_annot_lists[i].read)) {
      list = prev->page_annot_lists[i];
    } else {
      QPDFObjectHandle annots = q.getObjectByObjGen(s.pages[i]).getKey("/Annots");
      list.read.push_back(s.pages[i]);
      if (annots.isIndirect()) {
        list.array = annots.getObjGen();
        list.read.push_back(annots.getObjGen());
      }
      if (annots.isArray()) {
        for (QPDFObjectHandle a : annots.getArrayAsVector()) {
          if (a.isIndirect() && list.items.size() < kMaxWalk) list.items.push_back(a.getObjGen());
        }
      }
      SortUnique(list.read);
    }
    if (list.array) s.annots_arrays.insert(*list.array);
    s.page_annots.emplace_back();
    for (const QPDFObjGen& og : list.items) {
      if (budget == 0) continue;
      --budget;
      s.page_annots.back().push_back(og);
      Snapshot::AnnotMemo m;
      const Snapshot::AnnotMemo* old = nullptr;
      if (reuse) {
        auto it = prev->annot_memo.find(og);
        if (it != prev->annot_memo.end()) old = &it->second;
      }
      // The walk spends the same when nothing it read changed, and stops short of the budget.
      if (old != nullptr && old->cost < budget && Unchanged(changed, old->read)) {
        m = *old;
        budget -= m.cost;
      } else {
        QPDFObjectHandle a = q.getObjectByObjGen(og);
        m.klass = AnnotClass(a);
        std::set<QPDFObjGen> ap;
        const std::size_t budget_before = budget;
        ReachReusing(s, Get(a, "/AP"), ap, budget, memo ? &m.read : nullptr);
        m.cost = budget_before - budget;
        m.ap.assign(ap.begin(), ap.end());
        if (memo) {
          const std::vector<QPDFObjGen> more = AnnotClassReads(a);
          m.read.insert(m.read.end(), more.begin(), more.end());
          SortUnique(m.read);
        }
      }
      s.annots[og] = m.klass;
      for (const QPDFObjGen& x : m.ap) s.appearance.emplace(x, m.klass);
      // A walk the budget may have cut short is not reused.
      if (memo && budget > 0) s.annot_memo[og] = std::move(m);
    }
    if (memo) s.page_annot_lists.push_back(std::move(list));
  }

  std::size_t field_budget = kMaxWalk;  // field_of's own, so that a large form starves no walk
  auto visit_field = [&](const std::string& name, const QPDFObjGen& og, const std::string& ft) {
    const bool sig = ft == "/Sig";
    Snapshot::FieldMemo m;
    const Snapshot::FieldMemo* old = nullptr;
    if (reuse) {
      auto it = prev->field_memo.find(og);
      if (it != prev->field_memo.end()) old = &it->second;
    }
    if (old != nullptr && old->name == name && old->sig == sig && old->cost < field_budget &&
        Unchanged(changed, old->read)) {
      m = *old;
      field_budget -= m.cost;
    } else {
      QPDFObjectHandle f = q.getObjectByObjGen(og);
      m.name = name;
      m.sig = sig;
      QPDFObjectHandle v = f.getKey("/V");
      m.has_value = !v.isNull();
      m.value_indirect = v.isIndirect();
      if (m.value_indirect) m.value = v.getObjGen();
      // What belongs to this field: its value, its widgets (itself when merged, else its /Kids)
      // and their appearances. A signature value is the signature's own business.
      m.belongs.push_back(og);
      if (m.value_indirect && !sig) m.belongs.push_back(m.value);
      std::vector<QPDFObjectHandle> widgets{f};
      QPDFObjectHandle kids = f.getKey("/Kids");
      if (kids.isArray()) {
        for (QPDFObjectHandle k : kids.getArrayAsVector()) {
          if (widgets.size() < 64) widgets.push_back(k);
          if (memo && k.isIndirect()) m.read.push_back(k.getObjGen());
        }
      }
      const std::size_t budget_before = field_budget;
      for (QPDFObjectHandle w : widgets) {
        if (w.isIndirect()) m.belongs.push_back(w.getObjGen());
        std::set<QPDFObjGen> ap;
        ReachReusing(s, Get(w, "/AP"), ap, field_budget, memo ? &m.read : nullptr);
        m.belongs.insert(m.belongs.end(), ap.begin(), ap.end());
      }
      m.cost = budget_before - field_budget;
      if (memo) {
        m.read.push_back(og);
        if (m.value_indirect) m.read.push_back(m.value);
        if (kids.isIndirect()) m.read.push_back(kids.getObjGen());
        SortUnique(m.read);
      }
    }
    FieldState st;
    st.sig = sig;
    st.name = name;
    st.has_value = m.has_value;
    s.fields[og] = st;
    if (m.value_indirect) (sig ? s.sig_values : s.field_values).insert(m.value);
    for (const QPDFObjGen& x : m.belongs) {
      std::vector<std::string>& names = s.field_of[x];
      if (names.size() < 16 && std::find(names.begin(), names.end(), name) == names.end()) {
        names.push_back(name);
      }
    }
    // A walk the budget may have cut short is not reused.
    if (memo && field_budget > 0) s.field_memo[og] = std::move(m);
  };
  auto visit = [&](const std::string& name, QPDFObjectHandle f, const std::string& ft) {
    if (f.isIndirect()) visit_field(name, f.getObjGen(), ft);
  };
  // The field tree: /Fields (the same while the form and an indirect /Fields are), then the
  // walk below each entry, reading only the nodes that changed (FieldNodes).
  std::vector<QPDFObjGen> fields_read;
  std::vector<QPDFObjectHandle> top;
  bool fields_direct = false;  // an entry not indirect: the tree is walked, not recorded
  if (reuse && prev->fields_memo && form.isIndirect() && form.getObjGen() == prev->acroform &&
      Unchanged(changed, prev->fields_read)) {
    fields_read = prev->fields_read;
    for (const QPDFObjGen& og : prev->fields_top) top.push_back(q.getObjectByObjGen(og));
  } else {
    QPDFObjectHandle fields = Get(form, "/Fields");
    if (form.isIndirect()) fields_read.push_back(form.getObjGen());
    if (fields.isIndirect()) fields_read.push_back(fields.getObjGen());
    if (fields.isArray()) top = fields.getArrayAsVector();
    SortUnique(fields_read);
  }
  std::set<QPDFObjGen> seen;
  std::size_t walk_budget = kMaxWalk;
  s.field_nodes.q = &q;
  for (QPDFObjectHandle entry : top) {
    if (walk_budget == 0) break;
    fields_direct = fields_direct || !entry.isIndirect();
    WalkFieldTree(entry, seen, walk_budget, visit, memo ? &s.field_nodes : nullptr);
  }
  s.fields_memo = memo && form.isIndirect() && !fields_direct && walk_budget > 0;
  if (s.fields_memo) {
    s.fields_read = std::move(fields_read);
    for (QPDFObjectHandle entry : top) s.fields_top.push_back(entry.getObjGen());
  }

  ReachReusing(s, Get(root, "/DSS"), s.dss, budget);
  // What the catalog reaches, the logical structure tree aside (it draws nothing, and it is
  // often the larger part of a tagged document).
  std::size_t reach_budget = kMaxWalk;
  if (root.isIndirect()) s.reached.insert(root.getObjGen());
  if (root.isDictionary()) {
    for (const auto& [key, value] : root.getDictAsMap()) {
      if (key != "/StructTreeRoot" && !value.isDirectNull()) {
        ReachReusing(s, value, s.reached, reach_budget);
      }
    }
  }
  if (form.isDictionary()) {
    for (const std::string& k : KeysOf(form)) {
      if (k != "/Fields") ReachReusing(s, form.getKey(k), s.form_extra, budget);
    }
  }
  // The structure tree is walked when a change asks about it (Structure); the next revision
  // takes the walk over while nothing it read changed.
  QPDFObjectHandle struct_root = Get(root, "/StructTreeRoot");
  s.struct_start = struct_root;
  if (struct_root.isIndirect()) s.struct_root = struct_root.getObjGen();
  if (reuse && prev->structure_known && struct_root.isIndirect() &&
      prev->struct_root == s.struct_root && Unchanged(changed, prev->struct_read)) {
    s.structure = prev->structure;
    s.struct_read = prev->struct_read;
    s.structure_known = true;
  }
}

bool SameEntry(const QPDFXRefEntry& a, const QPDFXRefEntry& b) {
  if (a.getType() != b.getType()) return false;
  if (a.getType() == 1) return a.getOffset() == b.getOffset();
  if (a.getType() == 2) {
    return a.getObjStreamNumber() == b.getObjStreamNumber() &&
           a.getObjStreamIndex() == b.getObjStreamIndex();
  }
  return true;
}

const std::vector<std::string> kSeverity = {"dss",       "timestamp",    "signature",
                                            "form_fill", "annotation",   "other",
                                            "catalog",   "page_content", "pages"};

int SeverityOf(const std::string& klass) {
  auto it = std::find(kSeverity.begin(), kSeverity.end(), klass);
  return it == kSeverity.end() ? 5 : static_cast<int>(it - kSeverity.begin());
}

// Allowed judges one class of change: `p` is DocMDP /P, 0 for the default rule.
bool Allowed(const std::string& klass, int p) {
  if (klass == "dss" || klass == "timestamp") return true;
  if (klass == "signature" || klass == "form_fill") return p == 0 || p >= 2;
  if (klass == "annotation") return p == 0 || p >= 3;
  return false;
}

std::string ObjName(const QPDFObjGen& og) {
  return "object " + std::to_string(og.getObj()) + " " + std::to_string(og.getGen());
}

// Change is one change of a revision. `shadow` is how it takes part in a shadow attack (see
// PdfRevisionChange::attack): "replace" (an object shown when signed redefined in place),
// "hide" (one made to show nothing), "hide_and_replace" (a hidden one now shown), or empty.
struct Change {
  std::string klass;
  std::string detail;
  std::string shadow;
  std::vector<std::string> fields;  // the form fields it changes (fully qualified), for FieldMDP
};

// kMaxPaintCheckLen bounds what PaintsNothing decodes of one stream (longer ones paint), and
// kMaxPaintCheckTotalLen what it decodes for one revision (past it, streams paint).
constexpr std::size_t kMaxPaintCheckLen = std::size_t{64} << 10;
constexpr std::size_t kMaxPaintCheckTotalLen = std::size_t{16} << 20;

// IsPainting tells whether `h` paints on a page of `s`: one of its content streams, or a form
// or image XObject. Fonts, colour spaces and the like only serve what these paint.
bool IsPainting(QPDFObjectHandle h, const Snapshot& s) {
  if (!h.isStream()) return false;
  if (h.isIndirect() && s.content_streams.count(h.getObjGen())) return true;
  const std::string sub = NameOf(h.getDict().getKey("/Subtype"));
  return sub == "/Form" || sub == "/Image";
}

// BlankContent tells whether content stream operators `ops` paint nothing: only white space,
// comments and the graphics state operators q and Q.
bool BlankContent(std::string_view ops) {
  for (std::size_t i = 0; i < ops.size();) {
    if (IsPdfSpace(ops[i])) {
      ++i;
    } else if (ops[i] == '%') {
      while (i < ops.size() && ops[i] != '\n' && ops[i] != '\r') ++i;
    } else if ((ops[i] == 'q' || ops[i] == 'Q') &&
               (i + 1 == ops.size() || IsPdfSpace(ops[i + 1]))) {
      ++i;
    } else {
      return false;
    }
  }
  return true;
}

// PaintsNothing tells whether `now`, the new version of `old` (an object drawn or shown when
// signed), no longer paints: a form or image XObject that is no longer one, a content or form
// stream reduced to blank content, a form whose /BBox has no area, an image that gained a mask
// (/SMask, /Mask). That is what is done to an overlay to uncover what it covers. A stream that
// cannot be decoded, or not within what is left of `decode_budget`, paints.
bool PaintsNothing(QPDFObjectHandle old, QPDFObjectHandle now, std::size_t& decode_budget) {
  auto xobject = [](QPDFObjectHandle h) {
    const std::string sub = h.isStream() ? NameOf(h.getDict().getKey("/Subtype")) : "";
    return sub == "/Form" || sub == "/Image" ? sub : std::string();
  };
  // A form or image whose object number now leads to something else (EU DSS dss-2236/hide.pdf:
  // the overlay image's cross-reference entry points at the XMP stream).
  if (!xobject(old).empty() && xobject(now).empty()) return true;
  // A content stream freed or replaced by what is no stream.
  if (old.isStream() && !now.isStream()) return true;
  if (!now.isStream()) return false;
  QPDFObjectHandle dict = now.getDict();
  const std::string sub = NameOf(dict.getKey("/Subtype"));
  if (sub == "/Image") {
    QPDFObjectHandle od = old.isStream() ? old.getDict() : old;
    return (dict.hasKey("/SMask") && Get(od, "/SMask").isNull()) ||
           (dict.hasKey("/Mask") && Get(od, "/Mask").isNull());
  }
  QPDFObjectHandle bbox = dict.getKey("/BBox");
  if (sub == "/Form" && bbox.isArray() && bbox.getArrayNItems() == 4) {
    std::array<double, 4> b{};
    bool numbers = true;
    for (int i = 0; i < 4; ++i) {
      QPDFObjectHandle x = bbox.getArrayItem(i);
      numbers = numbers && x.isNumber();
      if (numbers) b[static_cast<std::size_t>(i)] = x.getNumericValue();
    }
    if (numbers && (b[2] - b[0]) * (b[3] - b[1]) == 0) return true;
  }
  try {
    CappedBuffer buf(kMaxPaintCheckLen, decode_budget);
    if (!now.pipeStreamData(&buf, 0, qpdf_dl_generalized, true)) return false;
    return BlankContent(AsString(buf.out_));
  } catch (const std::exception&) {
    return false;
  }
}

// kHiddenFlags are the annotation flags Hidden (2) and NoView (32) (ISO 32000-1 12.5.3).
constexpr long long kHiddenFlags = 2 | 32;

// AnnotHidden tells whether annotation `now` stopped showing what `old` showed: a Hidden or
// NoView flag set, or its appearance removed.
bool AnnotHidden(QPDFObjectHandle old, QPDFObjectHandle now) {
  auto flags = [](QPDFObjectHandle a) {
    QPDFObjectHandle f = Get(a, "/F");
    return f.isInteger() ? f.getIntValue() : 0LL;
  };
  if ((flags(now) & kHiddenFlags) != 0 && (flags(old) & kHiddenFlags) == 0) return true;
  return Get(old, "/AP").isDictionary() && !Get(now, "/AP").isDictionary();
}

// Structure is the logical structure tree of `s` (what /StructTreeRoot reaches, not following
// the references to pages and what they draw), walked the first time it is asked for, with a
// budget of its own.
const std::set<QPDFObjGen>& Structure(Snapshot& s) {
  if (!s.structure_known) {
    std::size_t budget = kMaxWalk;
    Reach(s.struct_start, s.structure, budget, {"/Pg", "/Obj", "/Stm", "/StmOwn"},
          s.memo ? &s.struct_read : nullptr);
    SortUnique(s.struct_read);
    s.structure_known = true;
  }
  return s.structure;
}


// Diff classifies what `now` changed relative to `before` (the revision before it).
std::vector<Change> Diff(Snapshot& before, Snapshot& now) {
  std::vector<Change> out;
  auto add = [&](std::string klass, std::string detail, std::string shadow = {}) {
    if (out.size() < 200) {
      out.push_back({std::move(klass), std::move(detail), std::move(shadow), {}});
    }
  };
  // The form field of a change to `og`, when `og` belonged to one.
  auto field_of = [&](const QPDFObjGen& og) {
    auto it = before.field_of.find(og);
    return it == before.field_of.end() ? std::vector<std::string>() : it->second;
  };
  auto add_field = [&](std::string klass, std::string detail, std::string shadow,
                       const QPDFObjGen& og) {
    if (out.size() < 200) {
      out.push_back({std::move(klass), std::move(detail), std::move(shadow), field_of(og)});
    }
  };
  QPDF& q = *now.q;
  QPDF& old_q = *before.q;
  std::size_t decode_budget = kMaxPaintCheckTotalLen;
  // The form dictionary: the fields are compared one by one, /DR by what it leads to
  // (form_extra); a viewer told to draw the fields anew (/NeedAppearances) shows the values, as
  // a form fill; anything else (an XFA form added, say) is other.
  auto compare_forms = [&](QPDFObjectHandle a, QPDFObjectHandle b) {
    std::set<std::string> keys = KeysOf(a);
    for (const std::string& k : KeysOf(b)) keys.insert(k);
    for (const std::string& k : keys) {
      if (k == "/Fields" || k == "/SigFlags" || SameValue(Get(a, k), Get(b, k))) continue;
      // Defaults for fields drawn anew: first given (as signers do for their field), nothing
      // changes; a default appearance changed, or a default font rebound (fonts are all /DA
      // can name), changes what such fields show: a form fill, as /NeedAppearances is.
      if ((k == "/DR" || k == "/DA") && Get(a, k).isNull()) continue;
      if (k == "/DR") {
        QPDFObjectHandle fa = Get(Get(a, k), "/Font"), fb = Get(Get(b, k), "/Font");
        if (fa.isNull() || SameValue(fa, fb) || NameMapOnlyAdds(fa, fb)) continue;
      }
      const bool fill = k == "/NeedAppearances" || k == "/DR" || k == "/DA";
      add(fill ? "form_fill" : "other", "form " + k);
    }
  };
  // The catalog, key by key (also when the trailer's /Root names another object now).
  auto compare_catalogs = [&](QPDFObjectHandle a, QPDFObjectHandle b) {
    std::set<std::string> keys = KeysOf(a);
    for (const std::string& k : KeysOf(b)) keys.insert(k);
    for (const std::string& k : keys) {
      if (SameValue(Get(a, k), Get(b, k))) continue;
      if (k == "/DSS") {
        add("dss", "catalog /DSS");
      } else if (k == "/AcroForm") {
        compare_forms(Get(a, k), Get(b, k));  // direct, or another object now
      } else if (k == "/Extensions" || k == "/Version" || k == "/Metadata" ||
                 k == "/StructTreeRoot" || k == "/MarkInfo" || k == "/Lang") {
        // The ESIC extension comes with a DSS.
      } else if (k == "/Pages") {
        add("pages", "catalog /Pages");
      } else {
        add("catalog", "catalog " + k);
      }
    }
  };
  if (now.root != before.root) {
    compare_catalogs(old_q.getObjectByObjGen(before.root), q.getObjectByObjGen(now.root));
  }
  // The objects to compare: those whose entry changed; those freed or gone from the table (now
  // null) that the document reached; new ones the revision before already referred to (to
  // nothing, then: content, an action or a value put behind a reference the signer saw lead
  // nowhere). Other new objects count through whatever object now refers to them.
  std::vector<QPDFObjGen> compare;
  // An object number in use given a new generation is read as the old object by some readers
  // (qpdf: the reference says generation 0) and as the new one by others (poppler).
  std::set<int> in_use;
  for (const auto& [og, entry] : before.xref) {
    if (entry.getType() != 0) in_use.insert(og.getObj());
  }
  for (const auto& [og, entry] : now.xref) {
    auto it = before.xref.find(og);
    const bool was = it != before.xref.end() && it->second.getType() != 0;
    if (entry.getType() == 0) {
      if (was && before.reached.count(og)) compare.push_back(og);
    } else if (it == before.xref.end()) {
      if (before.reached.count(og)) compare.push_back(og);
      if (in_use.count(og.getObj())) add("other", ObjName(og) + ": a new generation of an object in use");
    } else if (!SameEntry(it->second, entry)) {
      compare.push_back(og);
    }
  }
  for (const auto& [og, entry] : before.xref) {
    if (entry.getType() != 0 && !now.xref.count(og) && before.reached.count(og)) {
      compare.push_back(og);
    }
  }
  std::sort(compare.begin(), compare.end());
  for (const QPDFObjGen& og : compare) {
    // A resource dictionary (or name map) of what is drawn that only gains names.
    const bool resources =
        before.drawn.count(og) || before.appearance.count(og) || before.form_extra.count(og);
    if (SameObject(old_q.getObjectByObjGen(og), q.getObjectByObjGen(og)) ||
        (resources && OnlyAddsResources(old_q.getObjectByObjGen(og), q.getObjectByObjGen(og)))) {
      continue;
    }
    if (og == before.root) {
      compare_catalogs(old_q.getObjectByObjGen(og), q.getObjectByObjGen(og));
    } else if (og == before.acroform) {
      compare_forms(old_q.getObjectByObjGen(og), q.getObjectByObjGen(og));
    } else if (before.page_tree.count(og)) {
      // A page tree node: its kids by what they lead to (pages, below); what the pages inherit
      // from it (ISO 32000-1 Table 29) as the pages' own.
      QPDFObjectHandle a = old_q.getObjectByObjGen(og);
      QPDFObjectHandle b = q.getObjectByObjGen(og);
      std::set<std::string> keys = KeysOf(a);
      for (const std::string& k : KeysOf(b)) keys.insert(k);
      for (const std::string& k : keys) {
        if (k != "/Resources" && k != "/MediaBox" && k != "/CropBox" && k != "/Rotate") continue;
        if (SameValue(Get(a, k), Get(b, k))) continue;
        if (k == "/Resources" && OnlyAddsResources(Get(a, k), Get(b, k))) continue;
        add("page_content", "page tree node " + ObjName(og) + " " + k);
      }
    } else if (og == before.info || og == before.metadata || before.annots_arrays.count(og)) {
      // Document information, XMP and /Annots arrays: compared by what they lead to.
    } else if (auto p = before.page_index.find(og); p != before.page_index.end()) {
      QPDFObjectHandle a = old_q.getObjectByObjGen(og);
      QPDFObjectHandle b = q.getObjectByObjGen(og);
      std::set<std::string> keys = KeysOf(a);
      for (const std::string& k : KeysOf(b)) keys.insert(k);
      for (const std::string& k : keys) {
        if (k == "/Annots" || k == "/Parent" || k == "/StructParents" || k == "/Tabs") continue;
        if (SameValue(Get(a, k), Get(b, k))) continue;
        if (k == "/Resources" && OnlyAddsResources(Get(a, k), Get(b, k))) continue;
        add("page_content", "page " + std::to_string(p->second + 1) + " " + k);
      }
    } else if (before.drawn.count(og)) {
      const bool blank =
          PaintsNothing(old_q.getObjectByObjGen(og), q.getObjectByObjGen(og), decode_budget);
      add("page_content",
          ObjName(og) + (blank ? " drawn on a page, now blank" : " drawn on a page"),
          blank ? "hide" : "replace");
    } else if (auto f = before.fields.find(og); f != before.fields.end()) {
      if (!f->second.sig) {
        add_field(
            "form_fill", ObjName(og) + " form field",
            AnnotHidden(old_q.getObjectByObjGen(og), q.getObjectByObjGen(og)) ? "hide" : "replace",
            og);
      } else if (f->second.has_value) {
        add_field("other", ObjName(og) + " signed signature field changed", "", og);
      } else {
        add_field(SigValueClass(q.getObjectByObjGen(og).getKey("/V")),
                  ObjName(og) + " signature field", "", og);
      }
    } else if (auto an = before.annots.find(og); an != before.annots.end()) {
      add_field(
          an->second == "signature" || an->second == "timestamp" ? "other" : an->second,
          ObjName(og) + " annotation",
          AnnotHidden(old_q.getObjectByObjGen(og), q.getObjectByObjGen(og)) ? "hide" : "replace",
          og);
    } else if (before.field_values.count(og)) {
      add_field("form_fill", ObjName(og) + " field value", "replace", og);
    } else if (before.dss.count(og)) {
      add("dss", ObjName(og) + " in the DSS");
    } else if (before.sig_values.count(og)) {
      add("other", ObjName(og) + " signature dictionary changed");
    } else if (auto ap = before.appearance.find(og); ap != before.appearance.end()) {
      add_field(ap->second == "signature" || ap->second == "timestamp" ? "other" : ap->second,
                ObjName(og) + " annotation appearance",
                PaintsNothing(old_q.getObjectByObjGen(og), q.getObjectByObjGen(og), decode_budget)
                    ? "hide"
                    : "replace",
                og);
    } else if (before.form_extra.count(og)) {
      add("form_fill", ObjName(og) + " form resources");
    } else if (Structure(before).count(og)) {
      // The logical structure tree (tagging) draws nothing.
    } else {
      add("other", ObjName(og));
    }
  }
  if (before.pages != now.pages) {
    add("pages",
        "pages " + std::to_string(before.pages.size()) + " -> " + std::to_string(now.pages.size()));
  } else {
    for (std::size_t i = 0;
         i < now.pages.size() && i < before.page_annots.size() && i < now.page_annots.size(); ++i) {
      const std::set<QPDFObjGen> a(before.page_annots[i].begin(), before.page_annots[i].end());
      const std::set<QPDFObjGen> b(now.page_annots[i].begin(), now.page_annots[i].end());
      for (const QPDFObjGen& og : b) {
        if (!a.count(og))
          add(now.annots[og], "page " + std::to_string(i + 1) + " new " + ObjName(og));
      }
      for (const QPDFObjGen& og : a) {
        if (!b.count(og)) {
          add_field("annotation", "page " + std::to_string(i + 1) + " removed " + ObjName(og),
                    "hide", og);
        }
      }
    }
  }
  for (const auto& [og, st] : now.fields) {
    if (before.fields.count(og)) continue;
    if (!st.sig) {
      add("form_fill", "new form field " + ObjName(og));
    } else {
      add(st.has_value ? SigValueClass(q.getObjectByObjGen(og).getKey("/V")) : "signature",
          "new signature field " + ObjName(og));
    }
  }
  for (const auto& og : before.fields) {
    if (!now.fields.count(og.first)) {
      add_field("other", "form field removed " + ObjName(og.first), "", og.first);
    }
  }

  // What the pages draw now against what they drew. Content that was in the revision before,
  // unchanged, but drawn by no page (nor an annotation's appearance), and that a page draws now
  // is a hidden alternative swapped in by a re-pointed reference. Content no page draws any
  // more, while nothing new is drawn, is uncovering what it hid.
  bool new_painting = false;
  std::vector<QPDFObjGen> swapped_in;
  std::size_t checked = 0;
  for (const QPDFObjGen& og : now.drawn) {
    if (before.drawn.count(og) || ++checked > kMaxWalk) continue;
    QPDFObjectHandle h = q.getObjectByObjGen(og);
    if (!IsPainting(h, now)) continue;
    auto was = before.xref.find(og);
    auto is = now.xref.find(og);
    const bool unchanged =
        was != before.xref.end() && is != now.xref.end() && was->second.getType() != 0 &&
        (SameEntry(was->second, is->second) || SameObject(old_q.getObjectByObjGen(og), h));
    if (unchanged && !before.appearance.count(og)) {
      swapped_in.push_back(og);
    } else {
      new_painting = true;
    }
  }
  for (const QPDFObjGen& og : swapped_in) {
    add("page_content", ObjName(og) + " drawn now, present before but drawn by no page",
        "hide_and_replace");
  }
  if (!new_painting && before.pages == now.pages) {
    checked = 0;
    for (const QPDFObjGen& og : before.drawn) {
      if (now.drawn.count(og) || ++checked > kMaxWalk) continue;
      if (IsPainting(old_q.getObjectByObjGen(og), before)) {
        add("page_content", ObjName(og) + " drawn before, now drawn by no page", "hide");
      }
    }
  }
  return out;
}

// Locks tells whether `lock` locks the field named `field` (fully qualified).
bool Locks(const PdfFieldLock& lock, const std::string& field) {
  bool named = false;
  for (const std::string& n : lock.fields) {
    named =
        named || field == n ||
        (field.size() > n.size() && field.compare(0, n.size(), n) == 0 && field[n.size()] == '.');
  }
  if (lock.action == "All") return true;
  if (lock.action == "Include") return named;
  if (lock.action == "Exclude") return !named;
  return false;
}

// Judge sums up the changes of one revision: `docmdp_p` is DocMDP /P in force (0: the default
// rule), `locks` the FieldMDP locks of the signatures made before it.
PdfRevisionChange Judge(int revision, const std::vector<Change>& changes, int docmdp_p,
                        const std::vector<PdfFieldLock>& locks) {
  PdfRevisionChange r;
  r.revision = revision;
  r.allowed = true;
  if (changes.empty()) {
    r.klass = "other";
    return r;
  }
  int worst = -1;
  int shadow = 0;  // the strongest shadow part of a change not allowed
  const std::vector<std::string> kShadow = {"", "replace", "hide", "hide_and_replace"};
  for (const Change& c : changes) {
    worst = std::max(worst, SeverityOf(c.klass));
    std::string locked_field;
    for (const std::string& field : c.fields) {
      for (const PdfFieldLock& lock : locks) {
        if (locked_field.empty() && Locks(lock, field)) locked_field = field;
      }
    }
    const bool locked = !locked_field.empty();
    if (locked || !Allowed(c.klass, docmdp_p)) {
      r.allowed = false;
      const auto it = std::find(kShadow.begin(), kShadow.end(), c.shadow);
      if (it != kShadow.end()) shadow = std::max(shadow, static_cast<int>(it - kShadow.begin()));
    }
    if (r.details.size() < 32) {
      r.details.push_back(c.klass + ": " + c.detail +
                          (locked ? " (field \"" + locked_field + "\" locked by FieldMDP)" : ""));
    }
  }
  r.klass = kSeverity[static_cast<std::size_t>(worst)];
  if (!r.allowed && shadow > 0) {
    r.attack = "shadow_" + kShadow[static_cast<std::size_t>(shadow)];
  } else if (!r.allowed && worst >= SeverityOf("other")) {
    r.attack = "incremental_saving";
  }
  return r;
}

// ---------------------------------------------------------------------------------------------
// Cryptographic checks.

const EVP_MD* DigestFor(const ASN1_OBJECT* obj) {
  if (obj == nullptr) return nullptr;
  const EVP_MD* md = EVP_get_digestbyobj(obj);
  if (md != nullptr) return md;
  int md_nid = 0, pk_nid = 0;  // some writers put a signature OID here
  if (OBJ_find_sigid_algs(OBJ_obj2nid(obj), &md_nid, &pk_nid) == 1) {
    return EVP_get_digestbynid(md_nid);
  }
  return nullptr;
}

// FinalDigest finishes `ctx` (a digest of `md`); empty on failure.
Bytes FinalDigest(EVP_MD_CTX* ctx, const EVP_MD* md) {
  Bytes out(static_cast<std::size_t>(EVP_MD_get_size(md)));
  unsigned int len = 0;
  if (EVP_DigestFinal_ex(ctx, out.data(), &len) != 1) return {};
  out.resize(len);
  return out;
}

Bytes DigestParts(const EVP_MD* md, std::initializer_list<ByteSpan> parts) {
  ossl::UniquePtr<EVP_MD_CTX> ctx(EVP_MD_CTX_new());
  if (!ctx || EVP_DigestInit_ex(ctx.get(), md, nullptr) != 1) return {};
  for (ByteSpan p : parts) {
    if (EVP_DigestUpdate(ctx.get(), p.data(), p.size()) != 1) return {};
  }
  return FinalDigest(ctx.get(), md);
}

bool Equal(ByteSpan a, const ASN1_STRING* b) {
  return b != nullptr && static_cast<std::size_t>(ASN1_STRING_length(b)) == a.size() &&
         std::equal(a.begin(), a.end(), ASN1_STRING_get0_data(b));
}

ByteSpan SpanOf(const ASN1_STRING* s) {
  if (s == nullptr) return {};
  return {ASN1_STRING_get0_data(s), static_cast<std::size_t>(ASN1_STRING_length(s))};
}

// EssNamesCert tells whether a SigningCertificate (v2: SigningCertificateV2) attribute value
// lists `cert_der` by hash (RFC 2634 5.4, RFC 5035 3): any of its ESSCertID(v2)s, since some
// signers list the chain too. issuerSerial is not compared; the hash identifies the cert.
bool EssNamesCert(ByteSpan value, bool v2, ByteSpan cert_der) {
  auto seq = pkix::ReadTlv(value);
  if (!seq || seq->tag != 0x30) return false;
  ByteSpan body = value.subspan(seq->header_len, seq->len);
  auto certs = pkix::ReadTlv(body);
  if (!certs || certs->tag != 0x30) return false;
  ByteSpan list = body.subspan(certs->header_len, certs->len);
  for (int n = 0; !list.empty() && n < 64; ++n) {
    auto id = pkix::ReadTlv(list);
    if (!id || id->tag != 0x30) return false;
    ByteSpan fields = list.subspan(id->header_len, id->len);
    list = list.subspan(id->header_len + id->len);
    const EVP_MD* md = v2 ? EVP_sha256() : EVP_sha1();
    auto first = pkix::ReadTlv(fields);
    if (!first) return false;
    if (v2 && first->tag == 0x30) {
      const unsigned char* p = fields.data();
      ossl::UniquePtr<X509_ALGOR> alg(
          d2i_X509_ALGOR(nullptr, &p, static_cast<long>(first->header_len + first->len)));
      const ASN1_OBJECT* obj = nullptr;
      if (alg) X509_ALGOR_get0(&obj, nullptr, nullptr, alg.get());
      md = DigestFor(obj);
      if (md == nullptr) continue;
      fields = fields.subspan(first->header_len + first->len);
      first = pkix::ReadTlv(fields);
      if (!first) return false;
    }
    if (first->tag != 0x04) return false;
    const ByteSpan hash = fields.subspan(first->header_len, first->len);
    const Bytes want = DigestParts(md, {cert_der});
    if (std::equal(hash.begin(), hash.end(), want.begin(), want.end())) return true;
  }
  return false;
}

// SigningCertOk checks signing-certificate(-v2) when present.
bool SigningCertOk(CMS_SignerInfo* si, X509* signer) {
  const ASN1_STRING* v1 = static_cast<const ASN1_STRING*>(CMS_signed_get0_data_by_OBJ(
      si, OBJ_nid2obj(NID_id_smime_aa_signingCertificate), -3, V_ASN1_SEQUENCE));
  const ASN1_STRING* v2 = static_cast<const ASN1_STRING*>(CMS_signed_get0_data_by_OBJ(
      si, OBJ_nid2obj(NID_id_smime_aa_signingCertificateV2), -3, V_ASN1_SEQUENCE));
  const Bytes der = ossl::ToDer(i2d_X509, signer);
  if (v1 != nullptr && !EssNamesCert(SpanOf(v1), false, der)) return false;
  if (v2 != nullptr && !EssNamesCert(SpanOf(v2), true, der)) return false;
  return true;
}

// CheckCms fills the crypto fields of `s` from s.cms_der; `br1`/`br2` are the covered parts.
// DigestRanges is the digest of br1 then br2, resuming from `prefix`'s kept states when br1
// starts at byte 0 of `pdf`.
Bytes DigestRanges(const EVP_MD* md, ByteSpan br1, ByteSpan br2, ByteSpan pdf, const PrefixDigest* prefix) {
  if (prefix == nullptr || br1.data() != pdf.data()) return DigestParts(md, {br1, br2});
  ossl::UniquePtr<EVP_MD_CTX> ctx(EVP_MD_CTX_new());
  if (!ctx || !prefix->Resume(md, pdf, br1.size(), ctx.get())) return DigestParts(md, {br1, br2});
  if (EVP_DigestUpdate(ctx.get(), br2.data(), br2.size()) != 1) return {};
  return FinalDigest(ctx.get(), md);
}

void CheckCms(PdfSignature& s, ByteSpan contents, ByteSpan br1, ByteSpan br2, bool ranges_usable,
              ByteSpan pdf, const PrefixDigest* prefix) {
  auto fail = [&](const std::string& why) {
    if (s.crypto_problem.empty()) s.crypto_problem = why;
  };
  if (std::all_of(contents.begin(), contents.end(), [](uint8_t b) { return b == 0; })) {
    return fail("empty /Contents (universal signature forgery)");
  }
  const unsigned char* p = contents.data();
  ossl::UniquePtr<CMS_ContentInfo> cms(
      d2i_CMS_ContentInfo(nullptr, &p, static_cast<long>(contents.size())));
  if (!cms) {
    ERR_clear_error();
    std::size_t n = contents.size();
    while (n > 0 && contents[n - 1] == 0) --n;
    s.cms_der.assign(contents.begin(), contents.begin() + static_cast<std::ptrdiff_t>(n));
    return fail("the CMS does not parse");
  }
  s.cms_der.assign(contents.data(), p);
  if (OBJ_obj2nid(CMS_get0_type(cms.get())) != NID_pkcs7_signed) return fail("not a SignedData");
  if (STACK_OF(X509)* certs = CMS_get1_certs(cms.get())) {
    for (int i = 0; i < sk_X509_num(certs); ++i) s.cms_certs.emplace_back(sk_X509_value(certs, i));
    sk_X509_free(certs);
  }
  STACK_OF(CMS_SignerInfo)* sis = CMS_get0_SignerInfos(cms.get());
  if (sis == nullptr || sk_CMS_SignerInfo_num(sis) < 1) return fail("no SignerInfo");
  if (sk_CMS_SignerInfo_num(sis) > 1) fail("more than one SignerInfo; the first is checked");
  CMS_SignerInfo* si = sk_CMS_SignerInfo_value(sis, 0);
  if (const ASN1_OCTET_STRING* value = CMS_SignerInfo_get0_signature(si)) {
    s.signature_value.assign(ASN1_STRING_get0_data(value), ASN1_STRING_get0_data(value) + ASN1_STRING_length(value));
  }
  for (const auto& c : s.cms_certs) {
    if (CMS_SignerInfo_cert_cmp(si, c.get()) == 0) {
      X509_up_ref(c.get());
      s.signer_cert.reset(c.get());
      break;
    }
  }
  ERR_clear_error();

  // Signed attributes that do not depend on the checks.
  const int st = CMS_signed_get_attr_by_NID(si, NID_pkcs9_signingTime, -1);
  if (st >= 0) {
    const ASN1_TYPE* t = X509_ATTRIBUTE_get0_type(CMS_signed_get_attr(si, st), 0);
    if (t != nullptr && (t->type == V_ASN1_UTCTIME || t->type == V_ASN1_GENERALIZEDTIME)) {
      auto time = pkix::ToTime(t->value.utctime);
      if (time.ok()) s.claimed_signing_time = *time;
    }
  }
  for (int idx = CMS_unsigned_get_attr_by_NID(si, NID_id_smime_aa_timeStampToken, -1); idx >= 0;
       idx = CMS_unsigned_get_attr_by_NID(si, NID_id_smime_aa_timeStampToken, idx)) {
    X509_ATTRIBUTE* a = CMS_unsigned_get_attr(si, idx);
    for (int j = 0; j < X509_ATTRIBUTE_count(a) && s.timestamp_tokens.size() < 16; ++j) {
      const ASN1_TYPE* t = X509_ATTRIBUTE_get0_type(a, j);
      if (t != nullptr && t->type == V_ASN1_SEQUENCE) {
        const ByteSpan der = SpanOf(t->value.sequence);
        s.timestamp_tokens.emplace_back(der.begin(), der.end());
      }
    }
  }

  X509_ALGOR* digest_alg = nullptr;
  X509_ALGOR* sig_alg = nullptr;
  CMS_SignerInfo_get0_algs(si, nullptr, nullptr, &digest_alg, &sig_alg);
  s.digest_nid = WeakestDigest(SignatureHashNids(si));
  const ASN1_OBJECT* dobj = nullptr;
  if (digest_alg != nullptr) X509_ALGOR_get0(&dobj, nullptr, nullptr, digest_alg);
  // RFC 5652 5.3: digestAlgorithm names a digest. A signature algorithm there (some writers put
  // sha256WithRSAEncryption) is a malformed SignerInfo, refused as EU DSS does.
  int sig_md_nid = 0, sig_pk_nid = 0;
  if (dobj != nullptr && OBJ_find_sigid_algs(OBJ_obj2nid(dobj), &sig_md_nid, &sig_pk_nid) == 1) {
    return fail("the digest algorithm is a signature algorithm (malformed SignerInfo)");
  }
  const EVP_MD* md = DigestFor(dobj);
  if (md == nullptr) return fail("unknown digest algorithm");
  if (!ranges_usable) fail("the ByteRange cannot be hashed");

  // What messageDigest covers: the ByteRange, or the encapsulated content.
  bool content_ok = ranges_usable;
  ASN1_OCTET_STRING** econtent = CMS_get0_content(cms.get());
  const ByteSpan encap = econtent != nullptr ? SpanOf(*econtent) : ByteSpan();
  const bool attached = econtent != nullptr && *econtent != nullptr;
  if (s.sub_filter == "adbe.pkcs7.sha1") {
    const Bytes sha1 = DigestParts(EVP_sha1(), {br1, br2});
    if (!attached || !std::equal(encap.begin(), encap.end(), sha1.begin(), sha1.end())) {
      content_ok = false;
      fail("the encapsulated SHA-1 is not that of the ByteRange");
    }
  } else if (s.doc_timestamp) {
    const unsigned char* tp = encap.data();
    TS_TST_INFO* tst =
        attached ? d2i_TS_TST_INFO(nullptr, &tp, static_cast<long>(encap.size())) : nullptr;
    bool imprint_ok = false;
    if (tst != nullptr) {
      TS_MSG_IMPRINT* imprint = TS_TST_INFO_get_msg_imprint(tst);
      const ASN1_OBJECT* iobj = nullptr;
      X509_ALGOR_get0(&iobj, nullptr, nullptr, TS_MSG_IMPRINT_get_algo(imprint));
      const EVP_MD* imd = DigestFor(iobj);
      imprint_ok =
          imd != nullptr && Equal(DigestParts(imd, {br1, br2}), TS_MSG_IMPRINT_get_msg(imprint));
      TS_TST_INFO_free(tst);
    }
    ERR_clear_error();
    if (!imprint_ok) {
      content_ok = false;
      fail("the timestamp's message imprint is not the digest of the ByteRange");
    }
  } else if (attached) {
    // An enveloping CMS (eContent present, even empty) signs its eContent (RFC 5652 5.4), so it
    // covers the document only when what it encapsulates is exactly the ByteRange.
    const bool same =
        ranges_usable && encap.size() == br1.size() + br2.size() &&
        std::equal(br1.begin(), br1.end(), encap.begin()) &&
        std::equal(br2.begin(), br2.end(), encap.begin() + static_cast<std::ptrdiff_t>(br1.size()));
    if (!same) {
      content_ok = false;
      fail("the encapsulated content is not the ByteRange");
    }
  }
  const bool use_encap = s.sub_filter == "adbe.pkcs7.sha1" || s.doc_timestamp;

  if (s.signer_cert == nullptr) {
    s.hash_ok = false;
    return fail("the signer certificate is not in the CMS");
  }
  if (CMS_signed_get_attr_count(si) > 0) {
    const ASN1_STRING* md_attr = static_cast<const ASN1_STRING*>(CMS_signed_get0_data_by_OBJ(
        si, OBJ_nid2obj(NID_pkcs9_messageDigest), -3, V_ASN1_OCTET_STRING));
    const Bytes digest = use_encap ? DigestParts(md, {encap}) : DigestRanges(md, br1, br2, pdf, prefix);
    s.hash_ok = content_ok && Equal(digest, md_attr);
    if (!s.hash_ok) fail("messageDigest does not match the signed data");
    if (DigestAlgorithmsDisagree(digest_alg, sig_alg)) {
      s.signature_ok = false;
      return fail("the signature algorithm's hash is not the digest algorithm");
    }
    // Over the DER (sorted) signed attributes, RFC 5652 5.4, as EU DSS checks it.
    if (const std::string bad = SignedAttributesProblem(si, false); !bad.empty()) {
      s.signature_ok = false;
      return fail("signed attributes: " + bad);
    }
    const Status verified = VerifySignerInfoSignature(si, X509_get0_pubkey(s.signer_cert.get()));
    s.signature_ok = verified.ok();
    ERR_clear_error();
    if (!s.signature_ok) return fail("the signature does not verify: " + verified.message());
    if (!SigningCertOk(si, s.signer_cert.get())) {
      s.signature_ok = false;
      fail("signing-certificate does not name the signer certificate");
    }
    ERR_clear_error();
    return;
  }
  // No signed attributes: the signature is over the content itself.
  const ASN1_OCTET_STRING* sig = CMS_SignerInfo_get0_signature(si);
  ossl::UniquePtr<EVP_MD_CTX> ctx(EVP_MD_CTX_new());
  bool ok = ctx && EVP_DigestVerifyInit(ctx.get(), nullptr, md, nullptr,
                                        X509_get0_pubkey(s.signer_cert.get())) == 1;
  if (ok && use_encap) ok = EVP_DigestVerifyUpdate(ctx.get(), encap.data(), encap.size()) == 1;
  if (ok && !use_encap) {
    ok = EVP_DigestVerifyUpdate(ctx.get(), br1.data(), br1.size()) == 1 &&
         EVP_DigestVerifyUpdate(ctx.get(), br2.data(), br2.size()) == 1;
  }
  ok = ok && EVP_DigestVerifyFinal(ctx.get(), ASN1_STRING_get0_data(sig),
                                   static_cast<std::size_t>(ASN1_STRING_length(sig))) == 1;
  ERR_clear_error();
  s.hash_ok = s.signature_ok = ok && content_ok;
  if (!ok) fail("the signature (no signed attributes) does not verify");
}

// ---------------------------------------------------------------------------------------------

// ParsePdfDate reads "D:YYYYMMDDHHmmSSOHH'mm'" (ISO 32000-1 7.9.4); missing parts default.
std::optional<Time> ParsePdfDate(std::string d) {
  if (d.rfind("D:", 0) == 0) d = d.substr(2);
  auto num = [&](std::size_t at, std::size_t len, int dflt) {
    if (d.size() < at + len) return dflt;
    int v = 0;
    for (std::size_t i = at; i < at + len; ++i) {
      if (!std::isdigit(static_cast<unsigned char>(d[i]))) return -1;
      v = v * 10 + (d[i] - '0');
    }
    return v;
  };
  const int y = num(0, 4, -1), mo = num(4, 2, 1), day = num(6, 2, 1), h = num(8, 2, 0),
            mi = num(10, 2, 0), sec = num(12, 2, 0);
  if (y < 1900 || mo < 1 || mo > 12 || day < 1 || day > 31 || h < 0 || h > 23 || mi < 0 ||
      mi > 59 || sec < 0 || sec > 60) {
    return std::nullopt;
  }
  Time t = Utc(y, static_cast<unsigned>(mo), static_cast<unsigned>(day), h, mi, sec);
  if (d.size() > 14 && (d[14] == '+' || d[14] == '-')) {
    const int oh = num(15, 2, 0);
    int om = 0;
    if (d.size() >= 20 && d[17] == '\'') om = num(18, 2, 0);
    if (oh >= 0 && om >= 0) {
      const std::chrono::seconds off(oh * 3600 + om * 60);
      t = d[14] == '+' ? t - off : t + off;
    }
  }
  return t;
}

// kMaxLockedFields bounds the field names read from one FieldMDP lock.
constexpr std::size_t kMaxLockedFields = 1024;

// ReadLock reads a FieldMDP lock: FieldMDP /TransformParams or a signature field's /Lock
// (ISO 32000-1 Tables 233 and 255). Nothing when /Action is not All, Include or Exclude.
std::optional<PdfFieldLock> ReadLock(QPDFObjectHandle d) {
  if (!d.isDictionary()) return std::nullopt;
  const std::string action = NameOf(d.getKey("/Action"));
  if (action != "/All" && action != "/Include" && action != "/Exclude") return std::nullopt;
  PdfFieldLock lock;
  lock.action = action.substr(1);
  QPDFObjectHandle fields = d.getKey("/Fields");
  if (fields.isArray()) {
    const int n = fields.getArrayNItems();
    for (int i = 0; i < n && lock.fields.size() < kMaxLockedFields; ++i) {
      QPDFObjectHandle name = fields.getArrayItem(i);
      if (name.isString()) lock.fields.push_back(name.getUTF8Value());
    }
  }
  QPDFObjectHandle p = d.getKey("/P");
  if (p.isInteger()) lock.p = static_cast<int>(std::clamp(p.getIntValue(), 1LL, 3LL));
  return lock;
}

// RawSig is what the field tree gives about one signature before the checks.
struct RawSig {
  PdfSignature sig;
  Bytes contents;
  bool have_range = false;
  QPDFObjGen value;
  std::optional<long long> value_offset;
  std::optional<std::string> m;
};

// CheckByteRange checks the ByteRange of `r` against the file; true when the ranges can be
// hashed (inside the file, not overlapping).
bool CheckByteRange(RawSig& r, std::string_view text, const std::vector<RevisionEnd>& ends) {
  PdfSignature& s = r.sig;
  auto problem = [&](const std::string& why) {
    if (s.byte_range_problem.empty()) s.byte_range_problem = why;
  };
  const auto& br = s.byte_range;
  const long long size = static_cast<long long>(text.size());
  if (!r.have_range) {
    problem("no ByteRange of four integers (universal signature forgery)");
    return false;
  }
  // Each value is checked against the size first, so no sum below can overflow.
  const bool usable = br[0] >= 0 && br[1] >= 0 && br[2] >= 0 && br[3] >= 0 && br[0] <= size &&
                      br[1] <= size - br[0] && br[2] <= size && br[3] <= size - br[2] &&
                      br[2] >= br[0] + br[1];
  if (!usable) {
    problem("ByteRange outside the file");
    return false;
  }
  const long long end = br[2] + br[3];
  s.revision = static_cast<int>(ends.size());
  bool at_end = false;
  for (std::size_t i = 0; i < ends.size(); ++i) {
    if (static_cast<long long>(ends[i].min) <= end && end <= static_cast<long long>(ends[i].max)) {
      s.revision = static_cast<int>(i + 1);
      at_end = true;
      break;
    }
    if (static_cast<long long>(ends[i].min) > end) {
      s.revision = static_cast<int>(i + 1);
      break;
    }
  }
  std::size_t last = text.size();
  while (last > 0 && IsPdfSpace(text[last - 1])) --last;
  s.covers_whole_document = end >= static_cast<long long>(last);
  if (br[0] != 0) problem("ByteRange does not start at 0");
  const long long gap_start = br[0] + br[1];
  const std::string_view gap =
      text.substr(static_cast<std::size_t>(gap_start), static_cast<std::size_t>(br[2] - gap_start));
  if (gap.size() > kMaxGapLen) {
    problem("the gap is larger than any signature (signature wrapping)");
  } else if (gap.size() < 2 || gap.front() != '<' || gap.back() != '>') {
    problem("the gap is not one hex string (signature wrapping)");
  } else {
    auto hex = HexDecode(gap.substr(1, gap.size() - 2));
    if (!hex.ok()) {
      problem("the gap is not one hex string (signature wrapping)");
    } else if (*hex != r.contents) {
      problem("the gap is not this signature's /Contents (signature wrapping)");
    }
    std::size_t i = static_cast<std::size_t>(gap_start);
    while (i > 0 && IsPdfSpace(text[i - 1])) --i;
    if (i < 9 || text.substr(i - 9, 9) != "/Contents") {
      problem("the gap does not follow /Contents (signature wrapping)");
    }
  }
  // The signature dictionary must hold the gap. One rewritten by a later revision (offset
  // after the signed range) is a modification, reported in modifications_after instead.
  if (r.value_offset) {
    const std::size_t off = static_cast<std::size_t>(*r.value_offset);
    const std::size_t endobj = text.find("endobj", off);
    if (off < static_cast<std::size_t>(br[2]) && (off >= static_cast<std::size_t>(gap_start) ||
                                                  endobj < static_cast<std::size_t>(gap_start))) {
      problem("the gap is outside the signature dictionary (signature wrapping)");
    }
  }
  if (!at_end) problem("ByteRange does not end at the end of a revision");
  s.byte_range_ok = s.byte_range_problem.empty();
  return true;
}

void ReadDss(QPDFObjectHandle root, PdfDss& dss) {
  QPDFObjectHandle d = Get(root, "/DSS");
  const std::pair<const char*, std::vector<Bytes>*> arrays[] = {
      {"/Certs", &dss.certs}, {"/CRLs", &dss.crls}, {"/OCSPs", &dss.ocsps}};
  std::size_t budget = kMaxDssTotalLen;
  for (const auto& [key, out] : arrays) {
    QPDFObjectHandle arr = Get(d, key);
    if (!arr.isArray()) continue;
    std::set<QPDFObjGen> seen;
    const int n = arr.getArrayNItems();
    for (int i = 0; i < n && out->size() < kMaxDssItems && budget > 0; ++i) {
      QPDFObjectHandle item = arr.getArrayItem(i);
      if (!item.isStream() || !seen.insert(item.getObjGen()).second) continue;
      try {
        CappedBuffer buf(kMaxDssItemLen, budget);
        if (item.pipeStreamData(&buf, 0, qpdf_dl_generalized, true) && !buf.out_.empty()) {
          out->push_back(std::move(buf.out_));
        }
      } catch (const std::exception&) {
        // An undecodable or too long item is left out.
      }
    }
  }
}

// CountUnreferencedSignatures counts the distinct "/ByteRange [a b c d]" arrays written in
// `text` that neither `found` nor `also_reached` has (at most 1000 looked at).
int CountUnreferencedSignatures(std::string_view text, const std::vector<PdfSignature>& found,
                                const std::vector<std::array<long long, 4>>& also_reached) {
  std::set<std::array<long long, 4>> written;
  for (std::size_t at = text.find("/ByteRange"); at != std::string_view::npos && written.size() < 1000;
       at = text.find("/ByteRange", at + 10)) {
    std::size_t i = at + 10;
    while (i < text.size() && std::isspace(static_cast<unsigned char>(text[i]))) ++i;
    if (i >= text.size() || text[i] != '[') continue;
    ++i;
    std::array<long long, 4> range{};
    bool ok = true;
    for (long long& v : range) {
      while (i < text.size() && std::isspace(static_cast<unsigned char>(text[i]))) ++i;
      const std::size_t start = i;
      v = 0;
      while (i < text.size() && i - start < 18 && std::isdigit(static_cast<unsigned char>(text[i]))) {
        v = v * 10 + (text[i] - '0');
        ++i;
      }
      if (i == start) ok = false;
    }
    if (ok) written.insert(range);
  }
  for (const PdfSignature& s : found) written.erase(s.byte_range);
  for (const auto& range : also_reached) written.erase(range);
  return static_cast<int>(written.size());
}

bool ClassifyRevisions(ByteSpan pdf, const std::vector<RevisionEnd>& ends,
                       const std::vector<RawSig>& raws, int first, int revisions,
                       int certified_revision, int certified_p, bool memo,
                       std::shared_ptr<QPDF> whole, std::map<int, PdfRevisionChange>& changes);

// ReadAll is ReadPdfSignatures; `reuse_walks` false walks every revision afresh (see
// ReadPdfSignaturesWalkingEveryRevision).
Result<PdfSignatures> ReadAll(ByteSpan pdf, const PrefixDigest* prefix, bool reuse_walks) {
  const std::string_view text = AsString(pdf);
  PdfSignatures result;
  const std::vector<RevisionEnd> ends = FindRevisionEnds(text);
  result.revisions = static_cast<int>(ends.size());
  for (const RevisionEnd& e : ends) result.revision_ends.push_back(e.max);

  std::vector<RawSig> raws;
  QPDFObjGen certified_value;
  int certified_p = 0;
  std::vector<std::array<long long, 4>> permission_ranges;
  std::shared_ptr<QPDF> q;  // the whole file, the last revision's snapshot reuses it
  try {
    q = Open(pdf);
    const std::map<QPDFObjGen, QPDFXRefEntry> xref = q->getXRefTable();
    QPDFObjectHandle root = q->getRoot();
    QPDFObjectHandle docmdp = Get(Get(root, "/Perms"), "/DocMDP");
    if (docmdp.isIndirect()) certified_value = docmdp.getObjGen();
    // Usage-rights signatures (/Perms /UR3, Adobe Reader extensions) are signature dictionaries
    // the document reaches, though not through a field.
    for (const char* perm : {"/UR3", "/UR"}) {
      QPDFObjectHandle br = Get(Get(Get(root, "/Perms"), perm), "/ByteRange");
      if (!br.isArray() || br.getArrayNItems() != 4) continue;
      std::array<long long, 4> range{};
      for (int i = 0; i < 4; ++i) {
        QPDFObjectHandle x = br.getArrayItem(i);
        range[static_cast<std::size_t>(i)] = x.isInteger() ? x.getIntValue() : -1;
      }
      permission_ranges.push_back(range);
    }
    WalkFields(root, [&](const std::string& name, QPDFObjectHandle f, const std::string& ft) {
      if (ft != "/Sig" || raws.size() >= kMaxPdfSignatures) return;
      QPDFObjectHandle v = f.getKey("/V");
      if (!v.isDictionary()) return;
      RawSig r;
      r.sig.index = static_cast<int>(raws.size());
      r.sig.field_name = name;
      const std::string sub = NameOf(v.getKey("/SubFilter"));
      r.sig.sub_filter = sub.empty() ? sub : sub.substr(1);
      r.sig.doc_timestamp = SigValueClass(v) == "timestamp";
      QPDFObjectHandle br = v.getKey("/ByteRange");
      if (br.isArray() && br.getArrayNItems() == 4) {
        r.have_range = true;
        for (int i = 0; i < 4; ++i) {
          QPDFObjectHandle x = br.getArrayItem(i);
          if (!x.isInteger()) {
            r.have_range = false;
            break;
          }
          r.sig.byte_range[static_cast<std::size_t>(i)] = x.getIntValue();
        }
      }
      QPDFObjectHandle contents = v.getKey("/Contents");
      if (contents.isString()) {
        const std::string raw = contents.getStringValue();
        r.contents.assign(raw.begin(), raw.end());
      }
      QPDFObjectHandle m = v.getKey("/M");
      if (m.isString()) r.m = m.getUTF8Value();
      if (v.isIndirect()) {
        r.value = v.getObjGen();
        auto it = xref.find(v.getObjGen());
        if (it != xref.end() && it->second.getType() == 1) r.value_offset = it->second.getOffset();
      }
      // DocMDP: a /Reference with /TransformMethod /DocMDP makes this the certification.
      QPDFObjectHandle refs = v.getKey("/Reference");
      if (refs.isArray()) {
        for (QPDFObjectHandle ref : refs.getArrayAsVector()) {
          if (NameOf(Get(ref, "/TransformMethod")) == "/FieldMDP" && !r.sig.field_lock) {
            r.sig.field_lock = ReadLock(Get(ref, "/TransformParams"));
          }
          if (NameOf(Get(ref, "/TransformMethod")) != "/DocMDP") continue;
          QPDFObjectHandle pv = Get(Get(ref, "/TransformParams"), "/P");
          long long pval = pv.isInteger() ? pv.getIntValue() : 2;
          r.sig.certification_p = static_cast<int>(std::clamp(pval, 1LL, 3LL));
        }
      }
      // FieldMDP without a /Reference: the field's /Lock, written with the signature.
      if (!r.sig.field_lock) r.sig.field_lock = ReadLock(f.getKey("/Lock"));
      raws.push_back(std::move(r));
    });
    ReadDss(root, result.dss);
  } catch (const std::exception& e) {
    return InvalidArgumentError("tệp PDF bị hỏng hoặc không được hỗ trợ: " + OneLine(e.what()));
  }
  // Only the certification the catalog names counts, when it names one.
  for (RawSig& r : raws) {
    if (r.sig.certification_p != 0 && certified_value.isIndirect() &&
        !(r.value == certified_value)) {
      r.sig.certification_p = 0;
    }
  }

  int certified_revision = 0;
  unsigned long long hashed = 0;
  for (RawSig& r : raws) {
    PdfSignature& s = r.sig;
    bool usable = CheckByteRange(r, text, ends);
    if (usable) {
      hashed += 2ULL * static_cast<unsigned long long>(s.byte_range[1] + s.byte_range[3]);
      if (hashed > kMaxHashedLen) {
        usable = false;
        s.crypto_problem = "not checked: too much to hash in one document";
      }
    }
    ByteSpan br1, br2;
    if (usable) {
      br1 = pdf.subspan(static_cast<std::size_t>(s.byte_range[0]),
                        static_cast<std::size_t>(s.byte_range[1]));
      br2 = pdf.subspan(static_cast<std::size_t>(s.byte_range[2]),
                        static_cast<std::size_t>(s.byte_range[3]));
    }
    CheckCms(s, r.contents, br1, br2, usable, pdf, prefix);
    if (!s.claimed_signing_time && r.m) s.claimed_signing_time = ParsePdfDate(*r.m);
    if (s.revision == 0) s.revision = result.revisions;
    if (s.certification_p != 0 && (certified_revision == 0 || s.revision < certified_revision)) {
      certified_revision = s.revision;
      certified_p = s.certification_p;
    }
  }

  // A document timestamp whose token is, byte for byte, one an earlier signature or document
  // timestamp carries is a replayed token (EU DSS pades-lta-copied-doctst.pdf,
  // pades-t-duplicated-doctst.pdf): its imprint is that of other data.
  for (RawSig& r : raws) {
    PdfSignature& s = r.sig;
    if (!s.doc_timestamp || s.hash_ok || s.cms_der.empty()) continue;
    for (const RawSig& o : raws) {
      if (&o == &r || o.sig.revision > s.revision || !s.copy_of.empty()) continue;
      const bool copy = (o.sig.doc_timestamp && o.sig.cms_der == s.cms_der) ||
                        std::find(o.sig.timestamp_tokens.begin(), o.sig.timestamp_tokens.end(),
                                  s.cms_der) != o.sig.timestamp_tokens.end();
      if (copy) s.copy_of = o.sig.field_name;
    }
    if (!s.copy_of.empty()) {
      s.crypto_problem = "the token is a copy of the timestamp of signature field \"" + s.copy_of +
                         "\" (replayed): its message imprint is not this revision's";
    }
  }

  // What every revision after the first signature changed. The walks of one revision are reused
  // by the next where it changed nothing they read (memo); if qpdf warned or failed on the way,
  // all is done again without (as it would read a damaged file differently).
  int first = result.revisions;
  for (const RawSig& r : raws) first = std::min(first, r.sig.revision);
  std::map<int, PdfRevisionChange> changes;
  for (const bool memo : {true, false}) {
    if (memo && !reuse_walks) continue;
    // Only the first try reuses the objects qpdf read above; the second reads afresh.
    bool exact = ClassifyRevisions(pdf, ends, raws, first, result.revisions, certified_revision,
                                   certified_p, memo, memo ? q : nullptr, changes);
    if (exact) break;
    changes.clear();
  }
  for (RawSig& r : raws) {
    for (int k = r.sig.revision + 1; k <= result.revisions; ++k) {
      if (changes.count(k)) r.sig.modifications_after.push_back(changes[k]);
    }
    result.signatures.push_back(std::move(r.sig));
  }
  result.unreferenced_signatures = CountUnreferencedSignatures(text, result.signatures, permission_ranges);
  return result;
}

// ClassifyRevisions fills `changes` for the revisions from `first` + 1 to `revisions`. With
// `memo`, it returns false (and `changes` is to be dropped) when qpdf warned or failed while
// reading a revision, where reusing a walk might not give what walking again gives.
// With `memo` and `whole` (the file opened, when the last revision ends at its end), the last
// revision is read first, on `whole`, whose objects are read already, and revision `first`
// reuses what it found (whatever the later revisions did not change holds in both): only the
// last revision is walked in full, not also the revision signed first.
bool ClassifyRevisions(ByteSpan pdf, const std::vector<RevisionEnd>& ends,
                       const std::vector<RawSig>& raws, int first, int revisions,
                       int certified_revision, int certified_p, bool memo,
                       std::shared_ptr<QPDF> whole, std::map<int, PdfRevisionChange>& changes) {
  // Nothing to compare when every signature is in the last revision (the usual case).
  if (raws.empty() || first >= revisions) return true;
  bool exact = true;
  auto retire = [&](const std::unique_ptr<Snapshot>& s) {
    if (memo && s && s->q && Warned(*s)) exact = false;
  };
  const std::vector<QPDFObjGen> xref_streams = XrefStreamObjects(AsString(pdf), ends);
  std::unique_ptr<Snapshot> last;
  if (memo && whole && revisions - first <= kMaxClassifiedRevisions &&
      ends[static_cast<std::size_t>(revisions - 1)].max == pdf.size()) {
    last = std::make_unique<Snapshot>();
    last->xref_streams = &xref_streams;
    try {
      BuildSnapshot(pdf, *last, memo, nullptr, std::move(whole));
    } catch (const std::exception&) {
      return false;
    }
  }
  std::unique_ptr<Snapshot> before;
  for (int k = first; k <= revisions; ++k) {
    if (memo && !exact) return false;
    std::unique_ptr<Snapshot> now;
    bool ok = false;
    if (k == revisions && last) {
      now = std::move(last);
      ok = true;
    } else if (k - first <= kMaxClassifiedRevisions) {
      now = std::make_unique<Snapshot>();
      now->xref_streams = &xref_streams;
      try {
        BuildSnapshot(pdf.first(ends[static_cast<std::size_t>(k - 1)].max), *now, memo,
                      k == first ? last.get() : before.get());
        ok = true;
      } catch (const std::exception&) {
        ok = false;
        exact = false;
      }
    }
    if (k > first) {
      int p = certified_revision != 0 && certified_revision < k ? certified_p : 0;
      // FieldMDP locks of the signatures made before revision k; a PDF 2.0 lock's /P is DocMDP.
      std::vector<PdfFieldLock> locks;
      for (const RawSig& r : raws) {
        if (!r.sig.field_lock || r.sig.revision >= k) continue;
        locks.push_back(*r.sig.field_lock);
        if (r.sig.field_lock->p != 0) {
          p = p == 0 ? r.sig.field_lock->p : std::min(p, r.sig.field_lock->p);
        }
      }
      if (ok && before) {
        std::vector<Change> diff;
        try {
          diff = Diff(*before, *now);
        } catch (const std::exception& e) {
          diff = {{"other", "cannot compare: " + OneLine(e.what())}};
          exact = false;
        }
        changes[k] = Judge(k, diff, p, locks);
      } else {
        PdfRevisionChange c;
        c.revision = k;
        c.klass = "other";
        c.attack = k - first > kMaxClassifiedRevisions ? "too_many_revisions" : "";
        c.details = {"other: the revision cannot be read"};
        changes[k] = c;
      }
    }
    retire(before);
    if (!ok) retire(now);
    before = ok ? std::move(now) : nullptr;
  }
  retire(before);
  retire(last);
  return !memo || exact;
}

}  // namespace

Result<PdfSignatures> ReadPdfSignatures(ByteSpan pdf, const PrefixDigest* prefix) {
  if (pdf.size() > kMaxVerifyPdfLen) return InvalidArgumentError("tệp PDF lớn hơn 512 MiB");
  if (pdf.size() < 8 || AsString(pdf).find("%PDF-") > 1024) {
    return InvalidArgumentError("không phải tệp PDF");
  }
  try {
    return ReadAll(pdf, prefix, true);
  } catch (const std::exception& e) {
    return InvalidArgumentError("tệp PDF bị hỏng hoặc không được hỗ trợ: " + OneLine(e.what()));
  }
}

Result<PdfSignatures> ReadPdfSignaturesWalkingEveryRevision(ByteSpan pdf) {
  if (pdf.size() > kMaxVerifyPdfLen || pdf.size() < 8 || AsString(pdf).find("%PDF-") > 1024) {
    return ReadPdfSignatures(pdf);
  }
  try {
    return ReadAll(pdf, nullptr, false);
  } catch (const std::exception& e) {
    return InvalidArgumentError("tệp PDF bị hỏng hoặc không được hỗ trợ: " + OneLine(e.what()));
  }
}

}  // namespace kyso::verify
