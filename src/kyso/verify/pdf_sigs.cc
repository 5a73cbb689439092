#include "kyso/verify/pdf_sigs.h"

#include "kyso/verify/cms_sigs.h"

#include <openssl/err.h>
#include <openssl/objects.h>

#include <algorithm>
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
    RevisionEnd end{at + 5, at + 5};
    if (end.max < text.size() && text[end.max] == '\r') ++end.max;
    if (end.max < text.size() && text[end.max] == '\n') ++end.max;
    ends.push_back(end);
  }
  if (ends.empty()) ends.push_back({text.size(), text.size()});
  return ends;
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

// Reach adds to `out` every indirect object reachable from `start` (not following /Parent or
// /P, which lead back up the tree), spending `budget`.
void Reach(QPDFObjectHandle start, std::set<QPDFObjGen>& out, std::size_t& budget,
           const std::set<std::string>& skip = {}) {
  std::vector<QPDFObjectHandle> todo{start};
  while (!todo.empty() && budget > 0) {
    QPDFObjectHandle h = todo.back();
    todo.pop_back();
    --budget;
    if (h.isIndirect() && !out.insert(h.getObjGen()).second) continue;
    if (h.isStream()) h = h.getDict();
    if (h.isDictionary()) {
      for (const std::string& key : h.getKeys()) {
        if (key == "/Parent" || key == "/P" || skip.count(key)) continue;
        todo.push_back(h.getKey(key));
      }
    } else if (h.isArray()) {
      for (QPDFObjectHandle item : h.getArrayAsVector()) todo.push_back(item);
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
    const std::set<std::string> ka = a.getKeys(), kb = b.getKeys();
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
  return a.unparse() == b.unparse();
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

// OnlyAddsResources tells whether `b` is `a` with names added: for resource dictionaries
// (/Resources, /Font << /F1 5 0 R >>, ...: no /Type, values references or such dictionaries),
// where a new name changes nothing that is drawn until content uses it.
bool OnlyAddsResources(QPDFObjectHandle a, QPDFObjectHandle b, int depth = 0) {
  if (depth > 4 || !a.isDictionary() || !b.isDictionary() || a.hasKey("/Type") ||
      a.hasKey("/Subtype")) {
    return false;
  }
  for (const std::string& k : a.getKeys()) {
    if (!b.hasKey(k)) return false;
    QPDFObjectHandle va = a.getKey(k), vb = b.getKey(k);
    if (SameValue(va, vb)) continue;
    if (va.isIndirect() || vb.isIndirect() || !OnlyAddsResources(va, vb, depth + 1)) return false;
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

// FieldVisitor gets each terminal field: its full name, the field, its inherited /FT.
using FieldVisitor = std::function<void(const std::string&, QPDFObjectHandle, const std::string&)>;

// WalkFields visits the AcroForm field tree in order, each node once, at most kMaxWalk nodes.
void WalkFields(QPDFObjectHandle root, const FieldVisitor& visit) {
  QPDFObjectHandle fields = Get(Get(root, "/AcroForm"), "/Fields");
  if (!fields.isArray()) return;
  struct Node {
    QPDFObjectHandle h;
    std::string parent_name;
    std::string ft;
  };
  std::vector<Node> todo;
  std::vector<QPDFObjectHandle> top = fields.getArrayAsVector();
  for (auto it = top.rbegin(); it != top.rend(); ++it) todo.push_back({*it, "", ""});
  std::set<QPDFObjGen> seen;
  std::size_t budget = kMaxWalk;
  while (!todo.empty() && budget-- > 0) {
    Node n = std::move(todo.back());
    todo.pop_back();
    if (!n.h.isDictionary()) continue;
    if (n.h.isIndirect() && !seen.insert(n.h.getObjGen()).second) continue;
    std::string name = n.parent_name;
    QPDFObjectHandle t = n.h.getKey("/T");
    if (t.isString()) name = name.empty() ? t.getUTF8Value() : name + "." + t.getUTF8Value();
    const std::string ft = n.h.hasKey("/FT") ? NameOf(n.h.getKey("/FT")) : n.ft;
    QPDFObjectHandle kids = n.h.getKey("/Kids");
    bool field_kids = false;
    if (kids.isArray()) {
      std::vector<QPDFObjectHandle> k = kids.getArrayAsVector();
      for (auto it = k.rbegin(); it != k.rend(); ++it) {
        if (it->isDictionary() && it->hasKey("/T")) {
          field_kids = true;
          todo.push_back({*it, name, ft});
        }
      }
    }
    if (!field_kids) visit(name, n.h, ft);
  }
}

// ---------------------------------------------------------------------------------------------
// Snapshot: what one revision holds, for comparing it with the next.

struct FieldState {
  bool sig = false;
  bool has_value = false;
};

struct Snapshot {
  std::unique_ptr<QPDF> q;
  std::map<QPDFObjGen, QPDFXRefEntry> xref;
  QPDFObjGen root, info, metadata, acroform;
  std::vector<QPDFObjGen> pages;
  std::map<QPDFObjGen, std::size_t> page_index;
  std::vector<std::vector<QPDFObjGen>> page_annots;
  std::set<QPDFObjGen> page_tree;                // /Pages nodes
  std::set<QPDFObjGen> drawn;                    // reachable from a page's /Contents or /Resources
  std::set<QPDFObjGen> annots_arrays;            // indirect /Annots arrays
  std::map<QPDFObjGen, std::string> annots;      // annotation -> class of a change to it
  std::map<QPDFObjGen, std::string> appearance;  // objects of annotations' /AP -> class
  std::map<QPDFObjGen, FieldState> fields;
  std::set<QPDFObjGen> field_values;  // indirect /V of fields other than signatures
  std::set<QPDFObjGen> sig_values;    // signature dictionaries
  std::set<QPDFObjGen> dss;           // the DSS and everything in it
  std::set<QPDFObjGen> form_extra;    // reachable from the AcroForm but not by /Fields (/DR)
  std::set<QPDFObjGen> structure;     // the logical structure tree (not drawn)
};

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

void BuildSnapshot(ByteSpan prefix, Snapshot& s) {
  s.q = Open(prefix);
  QPDF& q = *s.q;
  s.xref = q.getXRefTable();
  QPDFObjectHandle trailer = q.getTrailer();
  QPDFObjectHandle root = trailer.getKey("/Root");
  s.root = root.getObjGen();
  s.info = trailer.getKey("/Info").getObjGen();
  s.metadata = Get(root, "/Metadata").getObjGen();
  QPDFObjectHandle form = Get(root, "/AcroForm");
  if (form.isIndirect()) s.acroform = form.getObjGen();
  std::size_t budget = kMaxWalk;

  // The page tree, each node once.
  std::vector<QPDFObjectHandle> todo{Get(root, "/Pages")};
  std::set<QPDFObjGen> seen;
  while (!todo.empty() && budget > 0) {
    QPDFObjectHandle n = todo.back();
    todo.pop_back();
    --budget;
    if (!n.isDictionary() || (n.isIndirect() && !seen.insert(n.getObjGen()).second)) continue;
    QPDFObjectHandle kids = n.getKey("/Kids");
    if (kids.isArray()) {
      if (n.isIndirect()) s.page_tree.insert(n.getObjGen());
      std::vector<QPDFObjectHandle> k = kids.getArrayAsVector();
      for (auto it = k.rbegin(); it != k.rend(); ++it) todo.push_back(*it);
    } else if (n.isIndirect()) {
      s.page_index[n.getObjGen()] = s.pages.size();
      s.pages.push_back(n.getObjGen());
    }
  }

  for (const QPDFObjGen& og : s.pages) {
    QPDFObjectHandle page = q.getObjectByObjGen(og);
    Reach(page.getKey("/Contents"), s.drawn, budget);
    // Inherited resources are reached through the page tree node that holds them.
    QPDFObjectHandle res = page.getKey("/Resources");
    for (int up = 0; up < 32 && res.isNull(); ++up) {
      page = page.getKey("/Parent");
      if (!page.isDictionary()) break;
      res = page.getKey("/Resources");
    }
    Reach(res, s.drawn, budget);
  }
  for (const QPDFObjGen& og : s.pages) {
    QPDFObjectHandle annots = q.getObjectByObjGen(og).getKey("/Annots");
    s.page_annots.emplace_back();
    if (annots.isIndirect()) s.annots_arrays.insert(annots.getObjGen());
    if (!annots.isArray()) continue;
    for (QPDFObjectHandle a : annots.getArrayAsVector()) {
      if (!a.isIndirect() || budget == 0) continue;
      --budget;
      s.page_annots.back().push_back(a.getObjGen());
      const std::string klass = AnnotClass(a);
      s.annots[a.getObjGen()] = klass;
      std::set<QPDFObjGen> ap;
      Reach(Get(a, "/AP"), ap, budget);
      for (const QPDFObjGen& x : ap) s.appearance.emplace(x, klass);
    }
  }

  WalkFields(root, [&](const std::string&, QPDFObjectHandle f, const std::string& ft) {
    if (!f.isIndirect()) return;
    FieldState st;
    st.sig = ft == "/Sig";
    QPDFObjectHandle v = f.getKey("/V");
    st.has_value = !v.isNull();
    s.fields[f.getObjGen()] = st;
    if (v.isIndirect()) (st.sig ? s.sig_values : s.field_values).insert(v.getObjGen());
  });

  QPDFObjectHandle dss = Get(root, "/DSS");
  Reach(dss, s.dss, budget);
  if (form.isDictionary()) {
    for (const std::string& k : form.getKeys()) {
      if (k != "/Fields") Reach(form.getKey(k), s.form_extra, budget);
    }
  }
  std::size_t struct_budget = kMaxWalk;
  Reach(Get(root, "/StructTreeRoot"), s.structure, struct_budget,
        {"/Pg", "/Obj", "/Stm", "/StmOwn"});
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

// Diff classifies what `now` changed relative to `before` (the revision before it).
struct Change {
  std::string klass;
  std::string detail;
  bool shadow = false;
};

std::vector<Change> Diff(Snapshot& before, Snapshot& now) {
  std::vector<Change> out;
  auto add = [&](std::string klass, std::string detail, bool shadow = false) {
    if (out.size() < 200) out.push_back({std::move(klass), std::move(detail), shadow});
  };
  QPDF& q = *now.q;
  QPDF& old_q = *before.q;
  for (const auto& [og, entry] : now.xref) {
    auto it = before.xref.find(og);
    if (it == before.xref.end()) {
      // A new object counts through whatever existing object now refers to it.
      continue;
    }
    if (SameEntry(it->second, entry) || entry.getType() == 0) continue;
    if (SameObject(old_q.getObjectByObjGen(og), q.getObjectByObjGen(og)) ||
        OnlyAddsResources(old_q.getObjectByObjGen(og), q.getObjectByObjGen(og))) {
      continue;
    }
    if (og == before.root) {
      QPDFObjectHandle a = old_q.getObjectByObjGen(og);
      QPDFObjectHandle b = q.getObjectByObjGen(og);
      std::set<std::string> keys;
      if (a.isDictionary()) keys = a.getKeys();
      if (b.isDictionary()) {
        for (const std::string& k : b.getKeys()) keys.insert(k);
      }
      for (const std::string& k : keys) {
        if (SameValue(Get(a, k), Get(b, k))) continue;
        if (k == "/DSS") {
          add("dss", "catalog /DSS");
        } else if (k == "/Extensions" || k == "/Version" || k == "/Metadata" || k == "/AcroForm" ||
                   k == "/StructTreeRoot" || k == "/MarkInfo" || k == "/Lang") {
          // The ESIC extension comes with a DSS; the form is compared field by field.
        } else if (k == "/Pages") {
          add("pages", "catalog /Pages");
        } else {
          add("catalog", "catalog " + k);
        }
      }
    } else if (og == before.info || og == before.metadata || og == before.acroform ||
               before.page_tree.count(og) || before.annots_arrays.count(og)) {
      // Document information, XMP, the form and the page tree: compared by what they lead to.
    } else if (auto p = before.page_index.find(og); p != before.page_index.end()) {
      QPDFObjectHandle a = old_q.getObjectByObjGen(og);
      QPDFObjectHandle b = q.getObjectByObjGen(og);
      std::set<std::string> keys = a.getKeys();
      for (const std::string& k : b.getKeys()) keys.insert(k);
      for (const std::string& k : keys) {
        if (k == "/Annots" || k == "/Parent" || k == "/StructParents" || k == "/Tabs") continue;
        if (SameValue(Get(a, k), Get(b, k))) continue;
        if (k == "/Resources" && OnlyAddsResources(Get(a, k), Get(b, k))) continue;
        add("page_content", "page " + std::to_string(p->second + 1) + " " + k);
      }
    } else if (before.drawn.count(og)) {
      add("page_content", ObjName(og) + " drawn on a page", /*shadow=*/true);
    } else if (auto f = before.fields.find(og); f != before.fields.end()) {
      if (!f->second.sig) {
        add("form_fill", ObjName(og) + " form field");
      } else if (f->second.has_value) {
        add("other", ObjName(og) + " signed signature field changed");
      } else {
        add(SigValueClass(q.getObjectByObjGen(og).getKey("/V")), ObjName(og) + " signature field");
      }
    } else if (auto an = before.annots.find(og); an != before.annots.end()) {
      add(an->second == "signature" || an->second == "timestamp" ? "other" : an->second,
          ObjName(og) + " annotation");
    } else if (before.field_values.count(og)) {
      add("form_fill", ObjName(og) + " field value");
    } else if (before.dss.count(og)) {
      add("dss", ObjName(og) + " in the DSS");
    } else if (before.sig_values.count(og)) {
      add("other", ObjName(og) + " signature dictionary changed");
    } else if (auto ap = before.appearance.find(og); ap != before.appearance.end()) {
      add(ap->second == "signature" || ap->second == "timestamp" ? "other" : ap->second,
          ObjName(og) + " annotation appearance");
    } else if (before.form_extra.count(og)) {
      add("form_fill", ObjName(og) + " form resources");
    } else if (before.structure.count(og)) {
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
        if (!b.count(og))
          add("annotation", "page " + std::to_string(i + 1) + " removed " + ObjName(og));
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
    if (!now.fields.count(og.first)) add("other", "form field removed " + ObjName(og.first));
  }
  return out;
}

PdfRevisionChange Judge(int revision, const std::vector<Change>& changes, int docmdp_p) {
  PdfRevisionChange r;
  r.revision = revision;
  r.allowed = true;
  if (changes.empty()) {
    r.klass = "other";
    return r;
  }
  int worst = -1;
  bool shadow = false;
  for (const Change& c : changes) {
    worst = std::max(worst, SeverityOf(c.klass));
    if (!Allowed(c.klass, docmdp_p)) {
      r.allowed = false;
      shadow = shadow || c.shadow;
    }
    if (r.details.size() < 32) r.details.push_back(c.klass + ": " + c.detail);
  }
  r.klass = kSeverity[static_cast<std::size_t>(worst)];
  if (!r.allowed && worst >= SeverityOf("other"))
    r.attack = shadow ? "shadow" : "incremental_saving";
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

Bytes DigestParts(const EVP_MD* md, std::initializer_list<ByteSpan> parts) {
  ossl::UniquePtr<EVP_MD_CTX> ctx(EVP_MD_CTX_new());
  if (!ctx || EVP_DigestInit_ex(ctx.get(), md, nullptr) != 1) return {};
  for (ByteSpan p : parts) {
    if (EVP_DigestUpdate(ctx.get(), p.data(), p.size()) != 1) return {};
  }
  Bytes out(static_cast<std::size_t>(EVP_MD_get_size(md)));
  unsigned int len = 0;
  if (EVP_DigestFinal_ex(ctx.get(), out.data(), &len) != 1) return {};
  out.resize(len);
  return out;
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
void CheckCms(PdfSignature& s, ByteSpan contents, ByteSpan br1, ByteSpan br2, bool ranges_usable) {
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
  const ASN1_OBJECT* dobj = nullptr;
  if (digest_alg != nullptr) X509_ALGOR_get0(&dobj, nullptr, nullptr, digest_alg);
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
  } else if (attached && !encap.empty()) {
    // An enveloping CMS is accepted when what it encapsulates is exactly the ByteRange.
    const bool same =
        encap.size() == br1.size() + br2.size() &&
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
    const Bytes digest = use_encap ? DigestParts(md, {encap}) : DigestParts(md, {br1, br2});
    s.hash_ok = content_ok && Equal(digest, md_attr);
    if (!s.hash_ok) fail("messageDigest does not match the signed data");
    if (DigestAlgorithmsDisagree(digest_alg, sig_alg)) {
      s.signature_ok = false;
      return fail("the signature algorithm's hash is not the digest algorithm");
    }
    CMS_SignerInfo_set1_signer_cert(si, s.signer_cert.get());
    s.signature_ok = CMS_SignerInfo_verify(si) == 1;
    ERR_clear_error();
    if (!s.signature_ok) return fail("the signature does not verify");
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

Result<PdfSignatures> ReadAll(ByteSpan pdf) {
  const std::string_view text = AsString(pdf);
  PdfSignatures result;
  const std::vector<RevisionEnd> ends = FindRevisionEnds(text);
  result.revisions = static_cast<int>(ends.size());
  for (const RevisionEnd& e : ends) result.revision_ends.push_back(e.max);

  std::vector<RawSig> raws;
  QPDFObjGen certified_value;
  int certified_p = 0;
  try {
    std::unique_ptr<QPDF> q = Open(pdf);
    const std::map<QPDFObjGen, QPDFXRefEntry> xref = q->getXRefTable();
    QPDFObjectHandle root = q->getRoot();
    QPDFObjectHandle docmdp = Get(Get(root, "/Perms"), "/DocMDP");
    if (docmdp.isIndirect()) certified_value = docmdp.getObjGen();
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
          if (NameOf(Get(ref, "/TransformMethod")) != "/DocMDP") continue;
          QPDFObjectHandle pv = Get(Get(ref, "/TransformParams"), "/P");
          long long pval = pv.isInteger() ? pv.getIntValue() : 2;
          r.sig.certification_p = static_cast<int>(std::clamp(pval, 1LL, 3LL));
        }
      }
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
    CheckCms(s, r.contents, br1, br2, usable);
    if (!s.claimed_signing_time && r.m) s.claimed_signing_time = ParsePdfDate(*r.m);
    if (s.revision == 0) s.revision = result.revisions;
    if (s.certification_p != 0 && (certified_revision == 0 || s.revision < certified_revision)) {
      certified_revision = s.revision;
      certified_p = s.certification_p;
    }
  }

  // What every revision after the first signature changed.
  int first = result.revisions;
  for (const RawSig& r : raws) first = std::min(first, r.sig.revision);
  std::map<int, PdfRevisionChange> changes;
  std::unique_ptr<Snapshot> before;
  // Nothing to compare when every signature is in the last revision (the usual case).
  for (int k = first; k <= result.revisions && !raws.empty() && first < result.revisions; ++k) {
    auto now = std::make_unique<Snapshot>();
    bool ok = false;
    if (k - first <= kMaxClassifiedRevisions) {
      try {
        BuildSnapshot(pdf.first(ends[static_cast<std::size_t>(k - 1)].max), *now);
        ok = true;
      } catch (const std::exception&) {
        ok = false;
      }
    }
    if (k > first) {
      const int p = certified_revision != 0 && certified_revision < k ? certified_p : 0;
      if (ok && before) {
        std::vector<Change> diff;
        try {
          diff = Diff(*before, *now);
        } catch (const std::exception& e) {
          diff = {{"other", "cannot compare: " + OneLine(e.what())}};
        }
        changes[k] = Judge(k, diff, p);
      } else {
        PdfRevisionChange c;
        c.revision = k;
        c.klass = "other";
        c.attack = k - first > kMaxClassifiedRevisions ? "too_many_revisions" : "";
        c.details = {"other: the revision cannot be read"};
        changes[k] = c;
      }
    }
    before = ok ? std::move(now) : nullptr;
  }
  for (RawSig& r : raws) {
    for (int k = r.sig.revision + 1; k <= result.revisions; ++k) {
      if (changes.count(k)) r.sig.modifications_after.push_back(changes[k]);
    }
    result.signatures.push_back(std::move(r.sig));
  }
  return result;
}

}  // namespace

Result<PdfSignatures> ReadPdfSignatures(ByteSpan pdf) {
  if (pdf.size() > kMaxVerifyPdfLen) return InvalidArgumentError("tệp PDF lớn hơn 512 MiB");
  if (pdf.size() < 8 || AsString(pdf).find("%PDF-") > 1024) {
    return InvalidArgumentError("không phải tệp PDF");
  }
  try {
    return ReadAll(pdf);
  } catch (const std::exception& e) {
    return InvalidArgumentError("tệp PDF bị hỏng hoặc không được hỗ trợ: " + OneLine(e.what()));
  }
}

}  // namespace kyso::verify
