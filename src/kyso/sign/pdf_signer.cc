#include "kyso/sign/pdf_signer.h"

#include <openssl/evp.h>
#include <openssl/x509.h>
#include <qpdf/Buffer.hh>
#include <qpdf/QPDF.hh>
#include <qpdf/QPDFExc.hh>
#include <qpdf/QPDFObjectHandle.hh>

#include <algorithm>
#include <cctype>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <exception>
#include <map>
#include <set>
#include <string_view>

#include "kyso/pkix/der.h"
#include "kyso/pkix/ossl.h"
#include "kyso/sign/pdf_text.h"

namespace kyso::sign {
namespace {

// ByteRange is written as "[0 a b c]" padded with spaces to this width once the offsets are
// known, so that filling it in moves no byte: four non-negative integers below 10^10.
constexpr std::size_t kByteRangeWidth = 36;
// A file's last cross-reference offset is found, as readers do, from "startxref" near the end.
constexpr std::size_t kStartXrefWindow = 2048;

// NewObject is one object of the update: a new object or a new version of an existing one.
struct NewObject {
  int num = 0;
  int gen = 0;
  std::string body;  // what goes between "N G obj" and "endobj"
};

// Plan is everything read from the input that the update needs.
struct Plan {
  std::size_t prev_xref = 0;  // offset of the input's last cross-reference section
  bool xref_stream = false;   // that section is a stream (PDF 1.5), so ours is one too
  int next_num = 1;           // first unused object number
  std::string root_ref, info_ref;
  std::string first_id;       // raw bytes of /ID[0]; empty when the input has no /ID
  std::string field_name;
  std::vector<NewObject> rewritten;  // new versions of existing objects (page, catalog/form)
  int page_num = 0, page_gen = 0;
};

std::string Ref(int num, int gen) { return std::to_string(num) + " " + std::to_string(gen) + " R"; }

std::string Ref(QPDFObjectHandle h) { return Ref(h.getObjectID(), h.getGeneration()); }

// Get is dict[key], or null when `dict` is not a dictionary (qpdf would warn on stderr).
QPDFObjectHandle Get(QPDFObjectHandle dict, const std::string& key) {
  return dict.isDictionary() ? dict.getKey(key) : QPDFObjectHandle::newNull();
}

// FindStartXref reads the offset after the last "startxref" (ISO 32000-1 7.5.5) and tells
// whether a table ("xref") or a stream ("N G obj") starts there.
Result<std::pair<std::size_t, bool>> FindStartXref(ByteSpan input) {
  const std::string_view text = AsString(input);
  const std::size_t from = text.size() > kStartXrefWindow ? text.size() - kStartXrefWindow : 0;
  const std::size_t at = text.rfind("startxref");
  if (at == std::string_view::npos || at < from) {
    return InvalidArgumentError("không phải tệp PDF: cuối tệp không có startxref");
  }
  std::size_t i = at + 9;
  while (i < text.size() && std::isspace(static_cast<unsigned char>(text[i]))) ++i;
  std::size_t offset = 0;
  const std::size_t digits_start = i;
  while (i < text.size() && std::isdigit(static_cast<unsigned char>(text[i])) &&
         i - digits_start < 12) {
    offset = offset * 10 + static_cast<std::size_t>(text[i++] - '0');
  }
  if (i == digits_start || offset >= at) {
    return InvalidArgumentError("tệp PDF bị hỏng: vị trí startxref sai");
  }
  std::size_t j = offset;
  while (j < text.size() && std::isspace(static_cast<unsigned char>(text[j]))) ++j;
  const bool table = text.substr(j, 4) == "xref";
  return std::make_pair(offset, !table);
}

// UnparseDict writes `dict` as "<< ... >>" with the values of `replace` instead of (or in
// addition to) its own; references stay "N G R" since the objects keep their numbers.
std::string UnparseDict(QPDFObjectHandle dict, const std::map<std::string, std::string>& replace) {
  std::string out = "<<";
  for (const std::string& key : dict.getKeys()) {
    if (replace.count(key)) continue;
    out += " " + QPDFObjectHandle::newName(key).unparse() + " " + dict.getKey(key).unparse();
  }
  for (const auto& [key, value] : replace) {
    out += " " + QPDFObjectHandle::newName(key).unparse() + " " + value;
  }
  return out + " >>";
}

// ArrayPlus writes the items of `array` (nothing if it is not an array) followed by `ref`.
std::string ArrayPlus(QPDFObjectHandle array, const std::string& ref) {
  std::string out = "[";
  if (array.isArray()) {
    for (QPDFObjectHandle item : array.getArrayAsVector()) out += item.unparse() + " ";
  }
  return out + ref + "]";
}

Result<std::string> PickFieldName(QPDFObjectHandle fields, const std::string& wanted) {
  std::set<std::string> taken;
  if (fields.isArray()) {
    for (QPDFObjectHandle f : fields.getArrayAsVector()) {
      if (Get(f, "/T").isString()) taken.insert(f.getKey("/T").getUTF8Value());
    }
  }
  if (!wanted.empty()) {
    if (wanted.find('.') != std::string::npos) {
      return InvalidArgumentError("tên ô chữ ký không được chứa dấu '.'");
    }
    if (taken.count(wanted)) return AlreadyExistsError("ô chữ ký '" + wanted + "' đã có trong tài liệu");
    return wanted;
  }
  for (int n = 1;; ++n) {
    std::string name = "Signature" + std::to_string(n);
    if (!taken.count(name)) return name;
  }
}

// ReadPlan is the qpdf part: every QPDF call is here, and its exceptions stop here.
// CertifiedNoChanges tells whether a certification signature forbids any change (ISO 32000-1
// 12.8.2.2: DocMDP transform parameter /P 1), which a new signature would be.
bool CertifiedNoChanges(QPDFObjectHandle root) {
  QPDFObjectHandle refs = Get(Get(Get(root, "/Perms"), "/DocMDP"), "/Reference");
  if (!refs.isArray()) return false;
  for (QPDFObjectHandle ref : refs.getArrayAsVector()) {
    if (!ref.isDictionary() || !ref.getKey("/TransformMethod").isNameAndEquals("/DocMDP")) continue;
    QPDFObjectHandle p = Get(ref.getKey("/TransformParams"), "/P");
    if (p.isInteger() && p.getIntValue() == 1) return true;
  }
  return false;
}

// ReadTrailer finds the first free object number, the catalog and the document's /ID and /Info.
Status ReadTrailer(QPDF& pdf, Plan& plan) {
  if (pdf.isEncrypted()) return InvalidArgumentError("tệp PDF đã mã hóa: không ký được (hãy gỡ mã hóa trước)");
  for (const auto& [og, entry] : pdf.getXRefTable()) {
    plan.next_num = std::max(plan.next_num, og.getObj() + 1);
  }
  QPDFObjectHandle trailer = pdf.getTrailer();
  if (trailer.getKey("/Size").isInteger()) {
    const long long size = trailer.getKey("/Size").getIntValue();
    if (size > 8'000'000) return InvalidArgumentError("tệp PDF bị hỏng: /Size quá lớn");
    plan.next_num = std::max(plan.next_num, static_cast<int>(size));
  }
  QPDFObjectHandle root = trailer.getKey("/Root");
  if (!root.isIndirect() || !root.isDictionary()) {
    return InvalidArgumentError("tệp PDF bị hỏng: không có danh mục tài liệu (catalog)");
  }
  plan.root_ref = Ref(root);
  if (!trailer.getKey("/Info").isNull()) plan.info_ref = trailer.getKey("/Info").unparse();
  QPDFObjectHandle id = trailer.getKey("/ID");
  if (id.isArray() && id.getArrayNItems() == 2 && id.getArrayItem(0).isString()) {
    plan.first_id = id.getArrayItem(0).getStringValue();
  }
  return OkStatus();
}

// PlanPage adds the new version of the widget's page, its /Annots extended with the field.
Status PlanPage(QPDF& pdf, const PdfSignOptions& options, const std::string& field_ref,
                Plan& plan) {
  const std::vector<QPDFObjectHandle>& pages = pdf.getAllPages();
  if (options.page < 1 || static_cast<std::size_t>(options.page) > pages.size()) {
    return InvalidArgumentError("trang " + std::to_string(options.page) +
                                " không có trong tài liệu (tài liệu có " + std::to_string(pages.size()) +
                                " trang)");
  }
  QPDFObjectHandle page = pages[static_cast<std::size_t>(options.page - 1)];
  // getAllPages may copy a page that appears twice in the tree into a new object, which
  // the file does not hold; such a page tree is refused.
  if (!page.isIndirect() || !page.isDictionary() || page.getObjectID() >= plan.next_num) {
    return InvalidArgumentError("tệp PDF bị hỏng: cây trang sai");
  }
  plan.page_num = page.getObjectID();
  plan.page_gen = page.getGeneration();
  // A direct /Annots array in the new page version: an indirect one may be shared.
  plan.rewritten.push_back(
      {plan.page_num, plan.page_gen,
       UnparseDict(page, {{"/Annots", ArrayPlus(Get(page, "/Annots"), field_ref)}})});
  return OkStatus();
}

// PlanForm adds the new version of the interactive form (ISO 32000-1 12.7.2): /Fields extended
// with the field, /SigFlags 3 (SignaturesExist, AppendOnly). A direct /AcroForm, or none, means
// a new version of the catalog.
// kMaxFieldNodes bounds the walk of a form's field tree: a hostile /Kids can point back at
// its own field, or fan out, and must not make signing run forever.
constexpr int kMaxFieldNodes = 10000;

// HasSignature tells whether any field of the form is a signed signature field. Each field is
// visited once, and at most kMaxFieldNodes of them (a tree beyond that counts as signed: the
// cautious answer for both callers).
bool HasSignature(QPDFObjectHandle fields) {
  std::vector<QPDFObjectHandle> todo;
  std::set<QPDFObjGen> seen;
  if (fields.isArray()) todo = fields.getArrayAsVector();
  int visited = 0;
  while (!todo.empty()) {
    QPDFObjectHandle f = todo.back();
    todo.pop_back();
    if (!f.isDictionary()) continue;
    if (f.isIndirect() && !seen.insert(f.getObjGen()).second) continue;
    if (++visited > kMaxFieldNodes) return true;
    if (f.getKey("/FT").isNameAndEquals("/Sig") && f.getKey("/V").isDictionary()) return true;
    QPDFObjectHandle kids = f.getKey("/Kids");
    if (kids.isArray()) {
      for (QPDFObjectHandle k : kids.getArrayAsVector()) todo.push_back(k);
      if (todo.size() > static_cast<std::size_t>(kMaxFieldNodes)) return true;
    }
  }
  return false;
}

Status PlanForm(QPDFObjectHandle root, const PdfSignOptions& options, bool doc_timestamp,
                const std::string& field_ref, const std::string& sig_ref, Plan& plan) {
  // ISO 32000-2 12.8.2.2.1: a DSS and a document timestamp are not changes for DocMDP, even /P 1.
  if (!doc_timestamp && CertifiedNoChanges(root)) {
    return FailedPreconditionError(
        "tài liệu đã được chứng nhận (DocMDP) không cho phép thay đổi: không ký thêm được");
  }
  QPDFObjectHandle form = root.getKey("/AcroForm");
  if (!form.isDictionary()) form = QPDFObjectHandle::newDictionary();
  if (options.certify != 0 && (HasSignature(form.getKey("/Fields")) ||
                               Get(Get(root, "/Perms"), "/DocMDP").isDictionary())) {
    return FailedPreconditionError("chỉ chữ ký đầu tiên của tài liệu mới được là chữ ký chứng nhận (DocMDP)");
  }
  KYSO_ASSIGN_OR_RETURN(plan.field_name,
                        PickFieldName(form.getKey("/Fields"), options.field_name));
  const std::string new_form = UnparseDict(
      form, {{"/Fields", ArrayPlus(form.getKey("/Fields"), field_ref)}, {"/SigFlags", "3"}});
  if (root.getObjectID() == plan.page_num ||
      (form.isIndirect() && form.getObjectID() == plan.page_num)) {
    return InvalidArgumentError("tệp PDF bị hỏng");
  }
  std::map<std::string, std::string> catalog_changes;
  if (form.isIndirect()) {
    plan.rewritten.push_back({form.getObjectID(), form.getGeneration(), new_form});
  } else {
    catalog_changes["/AcroForm"] = new_form;
  }
  if (options.certify != 0) {
    QPDFObjectHandle perms = root.getKey("/Perms");
    // A direct copy of an indirect /Perms keeps its other entries (/UR3).
    catalog_changes["/Perms"] = perms.isDictionary() ? UnparseDict(perms, {{"/DocMDP", sig_ref}})
                                                     : "<< /DocMDP " + sig_ref + " >>";
  }
  if (!catalog_changes.empty()) {
    plan.rewritten.push_back(
        {root.getObjectID(), root.getGeneration(), UnparseDict(root, catalog_changes)});
  }
  return OkStatus();
}

// ReadPlan is the qpdf part: every QPDF call is under it, and its exceptions stop here. The
// update's first new object is the signature dictionary (next_num), then the field.
Result<Plan> ReadPlan(ByteSpan input, const PdfSignOptions& options, bool doc_timestamp) {
  Plan plan;
  try {
    QPDF pdf;
    pdf.setSuppressWarnings(true);
    // A file qpdf must reconstruct has no trustworthy cross-reference to chain /Prev to.
    pdf.setAttemptRecovery(false);
    pdf.processMemoryFile("input.pdf", reinterpret_cast<const char*>(input.data()), input.size());
    KYSO_RETURN_IF_ERROR(ReadTrailer(pdf, plan));
    const std::string field_ref = Ref(plan.next_num + 1, 0);
    KYSO_RETURN_IF_ERROR(PlanPage(pdf, options, field_ref, plan));
    KYSO_RETURN_IF_ERROR(PlanForm(pdf.getTrailer().getKey("/Root"), options, doc_timestamp,
                                  field_ref, Ref(plan.next_num, 0), plan));
  } catch (const std::exception& e) {
    // QPDFExc and qpdf's logic errors: the input is not a PDF qpdf can read without repair.
    std::string what = e.what();
    if (what.size() > 160) what = what.substr(0, 160) + "...";
    for (char& c : what) {
      if (c == '\n' || c == '\r') c = ' ';
    }
    return InvalidArgumentError("tệp PDF bị hỏng hoặc không được hỗ trợ: " + what);
  }
  return plan;
}

// CmsEstimate is an upper estimate of the DER CMS: the certificates, the signature, and for
// the SignedData around them twice the issuer name (SignerInfo and signingCertificateV2).
std::size_t CmsEstimate(const PdfSignOptions& options) {
  std::size_t len = 512;
  auto add_cert = [&len](const X509* cert) {
    const int der_len = i2d_X509(const_cast<X509*>(cert), nullptr);
    len += der_len > 0 ? static_cast<std::size_t>(der_len) : 4096;
  };
  add_cert(options.signer_cert);
  for (const X509* c : options.extra_certs) add_cert(c);
  const int name_len = i2d_X509_NAME(X509_get_issuer_name(options.signer_cert), nullptr);
  len += 2 * static_cast<std::size_t>(std::max(name_len, 0));
  const int sig_len = EVP_PKEY_get_size(X509_get0_pubkey(options.signer_cert));
  return len + static_cast<std::size_t>(std::max(sig_len, 0)) + 16;
}

Status CheckOptions(const PdfSignOptions& options, bool doc_timestamp) {
  if (!doc_timestamp && options.signer_cert == nullptr) {
    return InvalidArgumentError("no signer certificate");
  }
  if (!doc_timestamp && options.signing_time == Time{}) {
    return InvalidArgumentError("no signing time");
  }
  if (options.rect) {
    const PdfRect& r = *options.rect;
    for (double v : {r.x, r.y, r.w, r.h}) {
      if (!std::isfinite(v) || std::fabs(v) > 1e6) {
        return InvalidArgumentError("ô chữ ký nằm ngoài phạm vi");
      }
    }
    if (r.w <= 0 || r.h <= 0) return InvalidArgumentError("ô chữ ký rỗng");
  }
  if (options.certify < 0 || options.certify > 3 || (doc_timestamp && options.certify != 0)) {
    return InvalidArgumentError("--certify là 1, 2 hoặc 3 (DocMDP)");
  }
  if (options.contents_len > kMaxContentsLen || options.timestamp_room_len > kMaxContentsLen) {
    return InvalidArgumentError("vùng dành cho chữ ký quá lớn");
  }
  return OkStatus();
}

std::string HexString(std::string_view raw) { return "<" + HexEncode(AsBytes(raw)) + ">"; }

// Writer assembles the update; offsets are absolute (input length + position in the update).
struct Writer {
  std::size_t base = 0;
  std::string out;
  std::map<int, std::pair<std::size_t, int>> xref;  // num -> (offset, gen)

  // Object appends "N G obj", `body`, "endobj" and returns the offset of `body` in `out`.
  std::size_t Object(int num, int gen, const std::string& body) {
    xref[num] = {base + out.size(), gen};
    out += std::to_string(num) + " " + std::to_string(gen) + " obj\n";
    const std::size_t body_at = out.size();
    out += body + "\nendobj\n";
    return body_at;
  }
  // Subsections lists first number and count of each run of consecutive numbers.
  std::vector<std::pair<int, int>> Subsections() const {
    std::vector<std::pair<int, int>> runs;
    for (const auto& [num, entry] : xref) {
      if (!runs.empty() && runs.back().first + runs.back().second == num) {
        ++runs.back().second;
      } else {
        runs.push_back({num, 1});
      }
    }
    return runs;
  }
};

// WriteXref ends the update with a cross-reference section of the input's kind and the
// trailer: /Prev chains to the input's section, /Root /Info /ID[0] carry over.
void WriteXref(Writer& w, const Plan& plan, int size, const std::string& id1) {
  std::string trailer = "/Size " + std::to_string(size) + " /Root " + plan.root_ref;
  if (!plan.info_ref.empty()) trailer += " /Info " + plan.info_ref;
  trailer += " /ID [" + HexString(plan.first_id.empty() ? id1 : plan.first_id) + " " +
             HexString(id1) + "] /Prev " + std::to_string(plan.prev_xref);
  std::size_t xref_offset = w.base + w.out.size();
  if (!plan.xref_stream) {
    w.out += "xref\n";
    auto runs = w.Subsections();
    for (const auto& [first, count] : runs) {
      w.out += std::to_string(first) + " " + std::to_string(count) + "\n";
      for (int n = first; n < first + count; ++n) {
        char entry[32];
        std::snprintf(entry, sizeof entry, "%010zu %05d n\r\n", w.xref[n].first, w.xref[n].second);
        w.out += entry;
      }
    }
    w.out += "trailer\n<< " + trailer + " >>\n";
  } else {
    // The stream is object size-1 and lists itself: /W [1 4 2], type 1 (in use) entries.
    const int self = size - 1;
    w.xref[self] = {xref_offset, 0};
    std::string index, data;
    for (const auto& [first, count] : w.Subsections()) {
      index += std::to_string(first) + " " + std::to_string(count) + " ";
      for (int n = first; n < first + count; ++n) {
        const std::size_t off = w.xref[n].first;
        const int gen = w.xref[n].second;
        const char e[7] = {1,
                           static_cast<char>(off >> 24),
                           static_cast<char>(off >> 16),
                           static_cast<char>(off >> 8),
                           static_cast<char>(off),
                           static_cast<char>(gen >> 8),
                           static_cast<char>(gen)};
        data.append(e, 7);
      }
    }
    index.pop_back();
    w.out += std::to_string(self) + " 0 obj\n<< /Type /XRef /W [1 4 2] /Index [" + index + "] " +
             trailer + " /Length " + std::to_string(data.size()) + " >>\nstream\n" + data +
             "\nendstream\nendobj\n";
  }
  w.out += "startxref\n" + std::to_string(xref_offset) + "\n%%EOF\n";
}

// SigDict writes the signature dictionary; *byte_range_at and *contents_at get the offsets,
// within the returned body, of the ByteRange array and of the '<' of /Contents.
Result<std::string> SigDict(const PdfSignOptions& options, bool doc_timestamp,
                            std::size_t contents_len, std::size_t* byte_range_at,
                            std::size_t* contents_at) {
  std::string d = doc_timestamp
                      ? "<< /Type /DocTimeStamp /Filter /Adobe.PPKLite /SubFilter /ETSI.RFC3161"
                      : "<< /Type /Sig /Filter /Adobe.PPKLite /SubFilter /ETSI.CAdES.detached /M (" +
                            FormatPdfDate(options.signing_time) + ")";
  const std::pair<const char*, const std::string*> texts[] = {
      {"/Name", &options.name}, {"/Reason", &options.reason}, {"/Location", &options.location}};
  for (const auto& [key, value] : texts) {
    if (value->empty()) continue;
    KYSO_ASSIGN_OR_RETURN(std::string s, PdfTextString(*value));
    d += std::string(" ") + key + " " + s;
  }
  if (options.certify != 0) {
    d += " /Reference [<< /Type /SigRef /TransformMethod /DocMDP /TransformParams << /Type "
         "/TransformParams /P " +
         std::to_string(options.certify) + " /V /1.2 >> >>]";
  }
  d += " /ByteRange ";
  *byte_range_at = d.size();
  d += std::string(kByteRangeWidth, ' ') + " /Contents ";
  *contents_at = d.size();
  d += "<" + std::string(2 * contents_len, '0') + "> >>";
  return d;
}

Result<Bytes> Digest(pkix::SignatureAlgorithm alg, std::initializer_list<ByteSpan> parts) {
  ossl::UniquePtr<EVP_MD_CTX> ctx(EVP_MD_CTX_new());
  if (!ctx || EVP_DigestInit_ex(ctx.get(), pkix::DigestOf(alg), nullptr) != 1) {
    return ossl::Error("digest init");
  }
  for (ByteSpan p : parts) {
    if (EVP_DigestUpdate(ctx.get(), p.data(), p.size()) != 1) return ossl::Error("digest");
  }
  Bytes md(EVP_MAX_MD_SIZE);
  unsigned int len = 0;
  if (EVP_DigestFinal_ex(ctx.get(), md.data(), &len) != 1) return ossl::Error("digest final");
  md.resize(len);
  return md;
}

// ContentsLen is the room for the DER CMS: as asked, or the estimate plus the timestamp room.
Result<std::size_t> ContentsLen(const PdfSignOptions& options) {
  const std::size_t estimate = CmsEstimate(options);
  if (options.contents_len == 0) {
    return (estimate + options.timestamp_room_len + 1023) / 1024 * 1024;
  }
  if (estimate > options.contents_len) {
    return InvalidArgumentError("chữ ký (khoảng " + std::to_string(estimate) +
                                " byte) không vừa vùng " + std::to_string(options.contents_len) +
                                " byte đã dành sẵn");
  }
  return options.contents_len;
}

// Widget is the merged signature field and widget annotation (ISO 32000-1 12.7.4.5, 12.5.6.19):
// printed and locked (/F 132), invisible with a zero box unless a box is given.
Result<std::string> Widget(const Plan& plan, const PdfSignOptions& options, int sig_num,
                           int ap_num) {
  KYSO_ASSIGN_OR_RETURN(std::string title, PdfTextString(plan.field_name));
  std::string widget = "<< /Type /Annot /Subtype /Widget /FT /Sig /T " + title + " /V " +
                       Ref(sig_num, 0) + " /F 132 /P " + Ref(plan.page_num, plan.page_gen);
  if (!options.field_label.empty()) {
    KYSO_ASSIGN_OR_RETURN(std::string label, PdfTextString(options.field_label));
    widget += " /TU " + label;
  }
  if (!options.rect) return widget + " /Rect [0 0 0 0] >>";
  const PdfRect& r = *options.rect;
  return widget + " /Rect [" + FormatPdfNumber(r.x) + " " + FormatPdfNumber(r.y) + " " +
         FormatPdfNumber(r.x + r.w) + " " + FormatPdfNumber(r.y + r.h) + "] /AP << /N " +
         Ref(ap_num, 0) + " >> >>";
}

// EndUpdate writes the cross-reference section and trailer after the update's objects, the
// last new one numbered `last_num`.
Status EndUpdate(Writer& w, const Plan& plan, ByteSpan input, int last_num) {
  const int size = last_num + 1 + (plan.xref_stream ? 1 : 0);
  // The second /ID element changes with every version (ISO 32000-1 14.4); any unique value.
  KYSO_ASSIGN_OR_RETURN(
      Bytes id_seed,
      Digest(pkix::SignatureAlgorithm::kEcdsaSha256,
             {input.subspan(input.size() > 4096 ? input.size() - 4096 : 0), AsBytes(w.out)}));
  WriteXref(w, plan, size, std::string(id_seed.begin(), id_seed.begin() + 16));
  return OkStatus();
}

// WriteAppearance writes the appearance's objects from `first_num` on, each "{ref:N}" in their
// dictionaries replaced by the reference of objects[N]; returns the last number used.
int WriteAppearance(Writer& w, const Appearance& appearance, int first_num, int rotate) {
  const int n = static_cast<int>(appearance.objects.size());
  for (int i = 0; i < n; ++i) {
    const PdfObjectSpec& o = appearance.objects[static_cast<std::size_t>(i)];
    std::string dict;
    for (std::size_t at = 0; at < o.dict.size();) {
      const std::size_t open = o.dict.find("{ref:", at);
      if (open == std::string::npos) {
        dict.append(o.dict, at);
        break;
      }
      dict.append(o.dict, at, open - at);
      const std::size_t close = o.dict.find('}', open);
      const int index = std::atoi(o.dict.c_str() + open + 5);
      KYSO_CHECK(close != std::string::npos && index >= 0 && index < n);
      dict += Ref(first_num + index, 0);
      at = close + 1;
    }
    // The form turns counter-clockwise by the page's rotation, so that once the viewer turns
    // the page clockwise the drawing reads upright (ISO 32000-1 12.5.5: /Matrix, then the box
    // is fitted to /Rect).
    static constexpr const char* kMatrices[] = {"", "[0 1 -1 0 0 0]", "[-1 0 0 -1 0 0]", "[0 -1 1 0 0 0]"};
    if (i == 0 && rotate % 90 == 0 && rotate > 0 && rotate < 360 && dict.rfind("<<", 0) == 0) {
      dict.insert(2, std::string(" /Matrix ") + kMatrices[rotate / 90]);
    }
    if (o.is_stream) {
      dict += "\nstream\n";
      dict.append(AsString(o.stream));
      dict += "\nendstream";
    }
    w.Object(first_num + i, 0, dict);
  }
  return first_num + n - 1;
}

// Update is the bytes appended to the input, /Contents still zeros; contents_at is the offset
// in `bytes` of the '<' that opens /Contents.
struct Update {
  std::string bytes;
  std::size_t contents_at = 0;
};

// WriteUpdate writes the new objects, the cross-reference section and the trailer, then the
// /ByteRange, which covers everything but the /Contents string, its angle brackets included.
Result<Update> WriteUpdate(ByteSpan input, const Plan& plan, const PdfSignOptions& options,
                           bool doc_timestamp, std::size_t contents_len) {
  const int sig_num = plan.next_num, field_num = sig_num + 1, ap_num = sig_num + 2;
  Writer w;
  w.base = input.size();
  if (!input.empty() && input.back() != '\n' && input.back() != '\r') w.out += "\n";
  std::size_t br_in_body = 0, contents_in_body = 0;
  KYSO_ASSIGN_OR_RETURN(std::string sig_dict,
                        SigDict(options, doc_timestamp, contents_len, &br_in_body,
                                &contents_in_body));
  const std::size_t sig_body_at = w.Object(sig_num, 0, sig_dict);
  KYSO_ASSIGN_OR_RETURN(std::string widget, Widget(plan, options, sig_num, ap_num));
  w.Object(field_num, 0, widget);
  int last_num = field_num;
  if (options.rect && options.appearance != nullptr && !options.appearance->objects.empty()) {
    last_num = WriteAppearance(w, *options.appearance, ap_num, options.appearance_rotate);
  } else if (options.rect) {
    // No drawing asked for: an empty appearance (PDF 2.0 12.5.5 wants /AP on every widget
    // with a non-zero box).
    w.Object(ap_num, 0,
             "<< /Type /XObject /Subtype /Form /BBox [0 0 " + FormatPdfNumber(options.rect->w) + " " +
                 FormatPdfNumber(options.rect->h) + "] /Length 0 >>\nstream\n\nendstream");
    last_num = ap_num;
  }
  for (const NewObject& o : plan.rewritten) w.Object(o.num, o.gen, o.body);
  KYSO_RETURN_IF_ERROR(EndUpdate(w, plan, input, last_num));

  Update update;
  update.contents_at = sig_body_at + contents_in_body;
  const std::size_t contents_start = input.size() + update.contents_at;
  const std::size_t contents_end = contents_start + 2 * contents_len + 2;
  const std::size_t total = input.size() + w.out.size();
  const std::string br = "[0 " + std::to_string(contents_start) + " " +
                         std::to_string(contents_end) + " " + std::to_string(total - contents_end) +
                         "]";
  KYSO_CHECK(br.size() <= kByteRangeWidth);
  w.out.replace(sig_body_at + br_in_body, br.size(), br);
  update.bytes = std::move(w.out);
  return update;
}

}  // namespace

std::string FormatPdfDate(Time t) {
  using namespace std::chrono;
  const sys_seconds local = t + hours(7);  // Asia/Ho_Chi_Minh: UTC+7, no daylight saving
  const sys_days day = floor<days>(local);
  const year_month_day ymd(day);
  const hh_mm_ss<seconds> hms(local - day);
  char buf[96];
  std::snprintf(buf, sizeof buf, "D:%04d%02u%02u%02ld%02ld%02lld+07'00'", int(ymd.year()),
                unsigned(ymd.month()), unsigned(ymd.day()), static_cast<long>(hms.hours().count()),
                static_cast<long>(hms.minutes().count()),
                static_cast<long long>(hms.seconds().count()));
  return buf;
}

Result<std::string> PdfTextString(std::string_view utf8) {
  if (std::all_of(utf8.begin(), utf8.end(), [](char c) { return c >= 0x20 && c < 0x7f; })) {
    std::string out = "(";
    for (char c : utf8) {
      if (c == '(' || c == ')' || c == '\\') out += '\\';
      out += c;
    }
    return out + ")";
  }
  std::string utf16 = "\xfe\xff";
  for (std::size_t i = 0; i < utf8.size();) {
    const auto b = static_cast<unsigned char>(utf8[i]);
    const int n = b < 0x80 ? 1 : (b >> 5) == 6 ? 2 : (b >> 4) == 14 ? 3 : (b >> 3) == 30 ? 4 : 0;
    if (n == 0 || i + static_cast<std::size_t>(n) > utf8.size()) {
      return InvalidArgumentError("văn bản không phải UTF-8");
    }
    uint32_t cp = n == 1 ? b : b & (0x7fu >> n);
    for (int k = 1; k < n; ++k) {
      const auto c = static_cast<unsigned char>(utf8[i + static_cast<std::size_t>(k)]);
      if ((c >> 6) != 2) return InvalidArgumentError("văn bản không phải UTF-8");
      cp = (cp << 6) | (c & 0x3fu);
    }
    static constexpr uint32_t kMin[] = {0, 0, 0x80, 0x800, 0x10000};
    if (cp < kMin[n] || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff)) {
      return InvalidArgumentError("văn bản không phải UTF-8");
    }
    auto unit = [&utf16](uint32_t u) {
      utf16 += static_cast<char>(u >> 8);
      utf16 += static_cast<char>(u & 0xff);
    };
    if (cp >= 0x10000) {
      unit(0xd800 + ((cp - 0x10000) >> 10));
      unit(0xdc00 + ((cp - 0x10000) & 0x3ff));
    } else {
      unit(cp);
    }
    i += static_cast<std::size_t>(n);
  }
  return HexString(utf16);
}

// PrepareUpdate writes the update of a signature or document timestamp with /Contents still
// zeros, and hashes its ByteRange with `md`.
Result<PreparedPdf> PrepareUpdate(ByteSpan input, const PdfSignOptions& options,
                                  bool doc_timestamp, std::size_t contents_len,
                                  pkix::SignatureAlgorithm md, PreparedPdf prepared) {
  if (input.size() > kMaxPdfLen) return InvalidArgumentError("tệp PDF lớn hơn 512 MiB");
  if (AsString(input).substr(0, 1024).find("%PDF-") == std::string_view::npos) {
    return InvalidArgumentError("không phải tệp PDF: không có phần đầu %PDF-");
  }
  KYSO_ASSIGN_OR_RETURN(const auto startxref, FindStartXref(input));
  KYSO_ASSIGN_OR_RETURN(Plan plan, ReadPlan(input, options, doc_timestamp));
  plan.prev_xref = startxref.first;
  plan.xref_stream = startxref.second;
  KYSO_ASSIGN_OR_RETURN(Update update,
                        WriteUpdate(input, plan, options, doc_timestamp, contents_len));
  const ByteSpan tail = AsBytes(update.bytes);
  const std::size_t contents_end = update.contents_at + 2 * contents_len + 2;
  KYSO_ASSIGN_OR_RETURN(
      prepared.digest_,
      Digest(md, {input, tail.first(update.contents_at), tail.subspan(contents_end)}));
  prepared.input_ = input;
  prepared.update_.assign(tail.begin(), tail.end());
  prepared.contents_pos_ = update.contents_at + 1;
  prepared.contents_len_ = contents_len;
  prepared.field_name_ = plan.field_name;
  return prepared;
}

// FillContents writes `der` as hex into the /Contents placeholder and hands back the update.
Result<Bytes> FillContents(PreparedPdf::Parts& parts, ByteSpan der) {
  if (der.size() > parts.contents_len) {
    return OutOfRangeError("chữ ký (" + std::to_string(der.size()) + " byte) không vừa vùng " +
                           std::to_string(parts.contents_len) + " byte đã dành sẵn trong tệp PDF");
  }
  const std::string hex = HexEncode(der);
  std::copy(hex.begin(), hex.end(),
            parts.update.begin() + static_cast<std::ptrdiff_t>(parts.contents_pos));
  return std::move(parts.update);
}

Result<PreparedPdf> PreparePdf(ByteSpan input, const PdfSignOptions& options,
                               pkix::SignatureAlgorithm alg) {
  KYSO_RETURN_IF_ERROR(CheckOptions(options, false));
  KYSO_ASSIGN_OR_RETURN(const std::size_t contents_len, ContentsLen(options));
  KYSO_ASSIGN_OR_RETURN(PreparedPdf prepared,
                        PrepareUpdate(input, options, false, contents_len, alg, PreparedPdf()));
  pkix::CmsSignOptions cms;
  cms.content_digest = prepared.digest_;
  cms.signer_cert = options.signer_cert;
  cms.extra_certs = options.extra_certs;
  KYSO_ASSIGN_OR_RETURN(prepared.cms_, pkix::PreparedCms::Prepare(cms, alg));
  return prepared;
}

Result<PreparedPdf> PrepareDocTimestamp(ByteSpan input, const std::string& field_name,
                                        std::size_t contents_len) {
  if (contents_len == 0 || contents_len > kMaxContentsLen) {
    return InvalidArgumentError("reserved timestamp size out of range");
  }
  PdfSignOptions options;
  options.field_name = field_name;
  KYSO_RETURN_IF_ERROR(CheckOptions(options, true));
  // SHA-256 whatever the signer's algorithm: the TSA is asked for a SHA-256 imprint.
  return PrepareUpdate(input, options, true, contents_len, pkix::SignatureAlgorithm::kEcdsaSha256,
                       PreparedPdf());
}

Result<Bytes> FinishDocTimestampUpdate(PreparedPdf&& prepared, ByteSpan token_der) {
  if (prepared.cms_) return InvalidArgumentError("not a document timestamp");
  if (token_der.empty() || !pkix::IsDerSequence(token_der)) {
    return InvalidArgumentError("dấu thời gian không đúng định dạng DER");
  }
  PreparedPdf::Parts parts = prepared.TakeParts();
  return FillContents(parts, token_der);
}

namespace {

// kMaxDssCompareLen: an existing DSS item is compared with the new ones (to add each once) only
// when it is stored unfiltered and at most this long; anything else is kept as it is and never
// decoded, so a DSS holding a compression bomb costs nothing.
constexpr long long kMaxDssCompareLen = 1 << 20;
// kMaxDssItems bounds the items of one existing DSS array that are carried over.
constexpr std::size_t kMaxDssItems = 100000;

// StreamData gives an existing DSS stream's bytes when they can be compared cheaply.
std::optional<Bytes> StreamData(QPDFObjectHandle h) {
  if (!h.isStream()) return std::nullopt;
  QPDFObjectHandle dict = h.getDict();
  QPDFObjectHandle length = dict.getKey("/Length");
  if (!dict.getKey("/Filter").isNull() || !length.isInteger() || length.getIntValue() < 0 ||
      length.getIntValue() > kMaxDssCompareLen) {
    return std::nullopt;
  }
  std::shared_ptr<Buffer> data = h.getRawStreamData();
  if (!data || data->getSize() > static_cast<std::size_t>(kMaxDssCompareLen)) return std::nullopt;
  return Bytes(data->getBuffer(), data->getBuffer() + data->getSize());
}

// DssPlan is what DssUpdate reads from the input.
struct DssPlan {
  Plan plan;
  std::map<std::string, std::string> keep;  // existing /DSS keys other than the arrays (/VRI)
  std::map<std::string, std::vector<std::string>> refs;  // "/Certs" -> existing "N G R"
  std::map<std::string, std::vector<Bytes>> have;        // "/Certs" -> existing data
  std::string catalog;                                    // the catalog, /DSS and /Extensions set later
  QPDFObjGen catalog_og;
  std::string extensions;  // the catalog's /Extensions with /ESIC, or empty to write ours
};

// kDssPlaceholder stands for the new DSS's reference in the catalog until its number is known;
// qpdf never unparses a control character outside a hex string, so it cannot clash.
constexpr char kDssPlaceholder[] = "\x01dss\x01";
constexpr const char* kDssArrays[] = {"/Certs", "/CRLs", "/OCSPs"};

Result<DssPlan> ReadDssPlan(ByteSpan input) {
  DssPlan d;
  try {
    QPDF pdf;
    pdf.setSuppressWarnings(true);
    pdf.setAttemptRecovery(false);
    pdf.processMemoryFile("input.pdf", reinterpret_cast<const char*>(input.data()), input.size());
    KYSO_RETURN_IF_ERROR(ReadTrailer(pdf, d.plan));
    QPDFObjectHandle root = pdf.getTrailer().getKey("/Root");
    d.catalog_og = root.getObjGen();
    QPDFObjectHandle dss = root.getKey("/DSS");
    if (dss.isDictionary()) {
      for (const std::string& key : dss.getKeys()) {
        if (key == "/Certs" || key == "/CRLs" || key == "/OCSPs") {
          QPDFObjectHandle arr = dss.getKey(key);
          if (!arr.isArray()) continue;
          if (static_cast<std::size_t>(arr.getArrayNItems()) > kMaxDssItems) {
            return InvalidArgumentError("tài liệu có kho dữ liệu kiểm tra (DSS) quá lớn");
          }
          for (QPDFObjectHandle item : arr.getArrayAsVector()) {
            d.refs[key].push_back(item.isIndirect() ? Ref(item) : item.unparse());
            if (std::optional<Bytes> data = StreamData(item)) d.have[key].push_back(*data);
          }
        } else if (key != "/Type") {
          d.keep[key] = dss.getKey(key).unparse();
        }
      }
    }
    // PAdES (EN 319 142-1 5.4): the developer extension ESIC, level 5 for a DSS.
    QPDFObjectHandle ext = root.getKey("/Extensions");
    QPDFObjectHandle esic_level = Get(Get(ext, "/ESIC"), "/ExtensionLevel");
    if (esic_level.isInteger() && esic_level.getIntValue() >= 5) d.extensions = ext.unparse();
    std::string ext_value = d.extensions.empty()
                                ? (ext.isDictionary()
                                       ? UnparseDict(ext, {{"/ESIC", "<< /BaseVersion /1.7 /ExtensionLevel 5 >>"}})
                                       : "<< /ESIC << /BaseVersion /1.7 /ExtensionLevel 5 >> >>")
                                : d.extensions;
    d.catalog = UnparseDict(root, {{"/DSS", kDssPlaceholder}, {"/Extensions", ext_value}});
  } catch (const std::exception& e) {
    std::string what = e.what();
    if (what.size() > 160) what = what.substr(0, 160) + "...";
    return InvalidArgumentError("tệp PDF bị hỏng hoặc không được hỗ trợ: " + what);
  }
  return d;
}

}  // namespace

namespace {

// RectOf reads a rectangle array [x1 y1 x2 y2] in any corner order (ISO 32000-1 7.9.5).
std::optional<PdfRect> RectOf(QPDFObjectHandle arr) {
  if (!arr.isArray() || arr.getArrayNItems() != 4) return std::nullopt;
  double v[4];
  for (int i = 0; i < 4; ++i) {
    QPDFObjectHandle item = arr.getArrayItem(i);
    if (!item.isNumber()) return std::nullopt;
    v[i] = item.getNumericValue();
    if (!std::isfinite(v[i])) return std::nullopt;
  }
  return PdfRect{std::min(v[0], v[2]), std::min(v[1], v[3]), std::fabs(v[2] - v[0]),
                 std::fabs(v[3] - v[1])};
}

// Inherited finds a page attribute that may sit on an ancestor (ISO 32000-1 7.7.3.4).
QPDFObjectHandle Inherited(QPDFObjectHandle page, const std::string& key) {
  for (int depth = 0; depth < 64 && page.isDictionary(); ++depth) {
    if (page.hasKey(key)) return page.getKey(key);
    page = page.getKey("/Parent");
  }
  return QPDFObjectHandle::newNull();
}

// AddSignatureWidgets appends the signature widgets among `page`'s /Annots.
void AddSignatureWidgets(QPDFObjectHandle page, int page_no, std::vector<SignatureWidget>& out) {
  QPDFObjectHandle annots = page.getKey("/Annots");
  if (!annots.isArray()) return;
  for (QPDFObjectHandle a : annots.getArrayAsVector()) {
    if (!a.isDictionary() || !a.getKey("/Subtype").isNameAndEquals("/Widget")) continue;
    // A widget merged with its field, or the kid of one (ISO 32000-1 12.7.3.1).
    QPDFObjectHandle field = a.hasKey("/FT") ? a : a.getKey("/Parent");
    if (!field.isDictionary() || !field.getKey("/FT").isNameAndEquals("/Sig")) continue;
    std::optional<PdfRect> rect = RectOf(a.getKey("/Rect"));
    if (!rect) continue;
    SignatureWidget sw;
    sw.page = page_no;
    if (field.getKey("/T").isString()) sw.field_name = field.getKey("/T").getUTF8Value();
    if (field.getKey("/TU").isString()) sw.label = field.getKey("/TU").getUTF8Value();
    sw.rect = *rect;
    sw.signed_ = field.getKey("/V").isDictionary();
    out.push_back(std::move(sw));
  }
}

}  // namespace

Result<PageInfo> ReadPageInfo(ByteSpan pdf, int page) {
  if (pdf.size() > kMaxPdfLen) return InvalidArgumentError("tệp PDF lớn hơn 512 MiB");
  PageInfo info;
  try {
    QPDF q;
    q.setSuppressWarnings(true);
    q.setAttemptRecovery(false);
    q.processMemoryFile("input.pdf", reinterpret_cast<const char*>(pdf.data()), pdf.size());
    if (q.isEncrypted()) return InvalidArgumentError("tệp PDF đã mã hóa: không ký được (hãy gỡ mã hóa trước)");
    const std::vector<QPDFObjectHandle>& pages = q.getAllPages();
    info.page_count = static_cast<int>(pages.size());
    if (page < 0 || page > info.page_count || info.page_count == 0) {
      return InvalidArgumentError("trang " + std::to_string(page) + " không có trong tài liệu (tài liệu có " +
                                  std::to_string(pages.size()) + " trang)");
    }
    QPDFObjectHandle p = pages[static_cast<std::size_t>(std::max(page, 1) - 1)];
    // The visible area is the CropBox clipped to the MediaBox (ISO 32000-1 14.11.2).
    std::optional<PdfRect> box = RectOf(Inherited(p, "/MediaBox"));
    if (std::optional<PdfRect> crop = RectOf(Inherited(p, "/CropBox")); crop && box) {
      const double x0 = std::max(box->x, crop->x), y0 = std::max(box->y, crop->y);
      const double x1 = std::min(box->x + box->w, crop->x + crop->w);
      const double y1 = std::min(box->y + box->h, crop->y + crop->h);
      if (x1 > x0 && y1 > y0) box = PdfRect{x0, y0, x1 - x0, y1 - y0};
    }
    if (!box || box->w <= 0 || box->h <= 0) return InvalidArgumentError("tệp PDF bị hỏng: trang không có MediaBox");
    info.crop_box = *box;
    info.document_signed = HasSignature(Get(q.getRoot().getKey("/AcroForm"), "/Fields"));
    QPDFObjectHandle rotate = Inherited(p, "/Rotate");
    if (rotate.isInteger()) info.rotate = static_cast<int>(((rotate.getIntValue() % 360) + 360) % 360);
    if (page == 0) {
      for (int n = 1; n <= info.page_count; ++n) {
        AddSignatureWidgets(pages[static_cast<std::size_t>(n - 1)], n, info.signatures);
      }
    } else {
      AddSignatureWidgets(p, page, info.signatures);
    }
  } catch (const std::exception& e) {
    std::string what = e.what();
    if (what.size() > 160) what = what.substr(0, 160) + "...";
    return InvalidArgumentError("tệp PDF bị hỏng hoặc không được hỗ trợ: " + what);
  }
  return info;
}

Result<Bytes> DssUpdate(ByteSpan input, const ValidationData& data) {
  if (input.size() > kMaxPdfLen) return InvalidArgumentError("tệp PDF lớn hơn 512 MiB");
  if (data.certificates.size() + data.crls.size() + data.ocsp_responses.size() >
      kMaxValidationDataItems) {
    return InvalidArgumentError("quá nhiều dữ liệu kiểm tra cho một lần cập nhật");
  }
  KYSO_ASSIGN_OR_RETURN(const auto startxref, FindStartXref(input));
  KYSO_ASSIGN_OR_RETURN(DssPlan d, ReadDssPlan(input));
  d.plan.prev_xref = startxref.first;
  d.plan.xref_stream = startxref.second;

  Writer w;
  w.base = input.size();
  if (!input.empty() && input.back() != '\n' && input.back() != '\r') w.out += "\n";
  int num = d.plan.next_num;
  const std::pair<const char*, const std::vector<Bytes>*> groups[] = {
      {"/Certs", &data.certificates}, {"/CRLs", &data.crls}, {"/OCSPs", &data.ocsp_responses}};
  for (const auto& [key, items] : groups) {
    std::vector<Bytes>& have = d.have[key];
    for (const Bytes& item : *items) {
      if (item.empty() || !pkix::IsDerSequence(item)) {
        return InvalidArgumentError(std::string("validation data for ") + key + " is not DER");
      }
      if (std::find(have.begin(), have.end(), item) != have.end()) continue;
      have.push_back(item);
      w.Object(num, 0,
               "<< /Length " + std::to_string(item.size()) + " >>\nstream\n" +
                   std::string(AsString(item)) + "\nendstream");
      d.refs[key].push_back(Ref(num++, 0));
    }
  }
  std::string dss = "<< /Type /DSS";
  for (const char* key : kDssArrays) {
    if (d.refs[key].empty()) continue;
    dss += std::string(" ") + key + " [";
    for (const std::string& r : d.refs[key]) dss += r + " ";
    dss.back() = ']';
  }
  for (const auto& [key, value] : d.keep) dss += " " + key + " " + value;
  dss += " >>";
  const int dss_num = num;
  w.Object(dss_num, 0, dss);
  std::string catalog = d.catalog;
  catalog.replace(catalog.find(kDssPlaceholder), std::strlen(kDssPlaceholder), Ref(dss_num, 0));
  w.Object(d.catalog_og.getObj(), d.catalog_og.getGen(), catalog);
  KYSO_RETURN_IF_ERROR(EndUpdate(w, d.plan, input, dss_num));
  return Bytes(w.out.begin(), w.out.end());
}

Result<Bytes> FinishPdfUpdate(PreparedPdf&& prepared, ByteSpan signature,
                              std::span<const Bytes> unsigned_attributes_der) {
  if (!prepared.cms_) return InvalidArgumentError("a document timestamp has no signature");
  KYSO_ASSIGN_OR_RETURN(Bytes cms_der,
                        std::move(*prepared.cms_).Finish(signature, unsigned_attributes_der));
  PreparedPdf::Parts parts = prepared.TakeParts();
  return FillContents(parts, cms_der);
}

Result<Bytes> FinishPdf(PreparedPdf&& prepared, ByteSpan signature,
                        std::span<const Bytes> unsigned_attributes_der) {
  const ByteSpan input = prepared.input_;
  KYSO_ASSIGN_OR_RETURN(Bytes update,
                        FinishPdfUpdate(std::move(prepared), signature, unsigned_attributes_der));
  Bytes out;
  out.reserve(input.size() + update.size());
  out.insert(out.end(), input.begin(), input.end());
  out.insert(out.end(), update.begin(), update.end());
  return out;
}

Result<Bytes> SignPdf(ByteSpan input, const PdfSignOptions& options, pkix::Signer& signer) {
  if (options.signer_cert == nullptr ||
      EVP_PKEY_eq(X509_get0_pubkey(options.signer_cert), signer.public_key()) != 1) {
    return InvalidArgumentError("chứng thư số không khớp với khóa ký");
  }
  KYSO_ASSIGN_OR_RETURN(PreparedPdf prepared, PreparePdf(input, options, signer.algorithm()));
  KYSO_ASSIGN_OR_RETURN(Bytes signature, signer.Sign(prepared.SignedAttributesDer()), "sign");
  return FinishPdf(std::move(prepared), signature);
}

}  // namespace kyso::sign
