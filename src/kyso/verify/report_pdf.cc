#include "kyso/verify/report_pdf.h"

#include <algorithm>
#include <exception>
#include <map>
#include <qpdf/Buffer.hh>
#include <qpdf/QPDF.hh>
#include <qpdf/QPDFExc.hh>
#include <qpdf/QPDFObjectHandle.hh>
#include <qpdf/QPDFPageDocumentHelper.hh>
#include <qpdf/QPDFWriter.hh>
#include <string>
#include <string_view>
#include <utility>

#include "kyso/sign/pdf_text.h"
#include "kyso/verify/cert_check.h"

namespace kyso::verify {
namespace {

using sign::FormatPdfNumber;

// A4 in points, 2 cm margins; the footer sits in the bottom margin.
constexpr double kPageW = 595.28;
constexpr double kPageH = 841.89;
constexpr double kMargin = 56.7;
constexpr double kFooterBaseline = 28;
constexpr double kTitleSize = 15;
constexpr double kHeadingSize = 12.5;
constexpr double kBodySize = 10.5;
constexpr double kFooterSize = 8.5;
constexpr double kLeading = 1.3;       // distance between baselines, × font size
constexpr double kSigIndent = 12;      // a signature's rows, from the left margin
constexpr double kHangingIndent = 24;  // the wrapped lines of a row's value
// A value longer than this (a runaway message or file name) is cut with "…".
constexpr std::size_t kMaxValueLen = 16 * 1024;
// Pieces of an unbreakable word stay well under sign::kMaxShapeTextLen.
constexpr std::size_t kMaxPieceLen = 1024;

struct Rgb {
  double r = 0, g = 0, b = 0;
};
constexpr Rgb kBlack{};
constexpr Rgb kGreen{0.02, 0.38, 0.06};
constexpr Rgb kRed{0.66, 0, 0};
constexpr Rgb kAmber{0.54, 0.35, 0};
constexpr Rgb kGrey{0.35, 0.35, 0.35};

Rgb VerdictColour(std::string_view indication) {
  if (indication == kPassed) return kGreen;
  if (indication == kFailed) return kRed;
  return kAmber;
}

void AppendUtf8(char32_t cp, std::string* out) {
  if (cp < 0x80) {
    *out += static_cast<char>(cp);
  } else if (cp < 0x800) {
    *out += static_cast<char>(0xc0 | (cp >> 6));
    *out += static_cast<char>(0x80 | (cp & 0x3f));
  } else if (cp < 0x10000) {
    *out += static_cast<char>(0xe0 | (cp >> 12));
    *out += static_cast<char>(0x80 | ((cp >> 6) & 0x3f));
    *out += static_cast<char>(0x80 | (cp & 0x3f));
  } else {
    *out += static_cast<char>(0xf0 | (cp >> 18));
    *out += static_cast<char>(0x80 | ((cp >> 12) & 0x3f));
    *out += static_cast<char>(0x80 | ((cp >> 6) & 0x3f));
    *out += static_cast<char>(0x80 | (cp & 0x3f));
  }
}

// IsDropped tells the invisible and bidirectional formatting characters: a file name with
// U+202E could otherwise make the report show another name than the file's.
bool IsDropped(char32_t cp) {
  return cp == 0xad || cp == 0x34f || cp == 0x61c || (cp >= 0x200b && cp <= 0x200f) ||
         (cp >= 0x2028 && cp <= 0x202e) || (cp >= 0x2060 && cp <= 0x206f) || cp == 0xfeff ||
         (cp >= 0xfe00 && cp <= 0xfe0f) || (cp >= 0xe0000 && cp <= 0xe0fff);
}

// LenientDecode is DecodeUtf8 that turns each byte of a bad sequence into "?".
std::u32string LenientDecode(std::string_view text) {
  std::u32string out;
  for (std::size_t i = 0; i < text.size();) {
    const auto lead = static_cast<unsigned char>(text[i]);
    const std::size_t len = lead < 0x80 ? 1 : lead >= 0xf0 ? 4 : lead >= 0xe0 ? 3 : 2;
    Result<std::u32string> cp = sign::DecodeUtf8(text.substr(i, len));
    if (cp.ok() && cp->size() == 1) {
      out += (*cp)[0];
      i += len;
    } else {
      out += U'?';
      ++i;
    }
  }
  return out;
}

// Layout places text top to bottom on A4 pages, wrapping lines and starting pages; after
// max_pages it draws nothing more and remembers that the report was cut.
class Layout final {
 public:
  Layout(const ReportFonts& fonts, std::size_t max_pages) : max_pages_(max_pages) {
    faces_.emplace_back(*fonts.regular);
    if (fonts.bold != nullptr) faces_.emplace_back(*fonts.bold);
  }

  int regular() const { return 0; }
  int bold() const { return faces_.size() > 1 ? 1 : 0; }
  bool truncated() const { return truncated_; }
  std::vector<sign::PdfFont>& faces() { return faces_; }
  std::vector<std::string>& pages() { return pages_; }

  // Centred is one line of text centred on the page.
  void Centred(std::string_view text, int face, double size, Rgb colour) {
    const std::string clean = Clean(text);
    if (!NeedLine(size * kLeading)) return;
    const double w = Width(face, clean, size);
    Draw(pages_.size() - 1, face, clean, size, std::max(kMargin, (kPageW - w) / 2), Baseline(size),
         colour);
    y_ -= size * kLeading;
  }

  // Paragraph wraps `text` between `indent` and the right margin.
  void Paragraph(std::string_view text, int face, double size, Rgb colour, double indent = 0) {
    const double avail = kPageW - 2 * kMargin - indent;
    for (const std::string& line : Wrap(face, Clean(text), size, avail, avail)) {
      if (!NeedLine(size * kLeading)) return;
      Draw(pages_.size() - 1, face, line, size, kMargin + indent, Baseline(size), colour);
      y_ -= size * kLeading;
    }
  }

  // Row is "label: value" at the signature indent, the value wrapped with a hanging indent.
  void Row(std::string_view label, std::string_view value, Rgb colour = kBlack,
           bool bold_value = false) {
    const std::string head = Clean(std::string(label) + ": ");
    const int face = bold_value ? bold() : regular();
    const double x0 = kMargin + kSigIndent;
    const double avail = kPageW - kMargin - x0;
    const double head_w = Width(bold(), head, kBodySize);
    std::vector<std::string> lines =
        Wrap(face, Clean(value), kBodySize, avail - head_w, avail - kHangingIndent);
    if (lines.empty()) lines.emplace_back();
    for (std::size_t i = 0; i < lines.size(); ++i) {
      if (!NeedLine(kBodySize * kLeading)) return;
      const double baseline = Baseline(kBodySize);
      if (i == 0) {
        Draw(pages_.size() - 1, bold(), head, kBodySize, x0, baseline, kBlack);
        Draw(pages_.size() - 1, face, lines[i], kBodySize, x0 + head_w, baseline, colour);
      } else {
        Draw(pages_.size() - 1, face, lines[i], kBodySize, x0 + kHangingIndent, baseline, colour);
      }
      y_ -= kBodySize * kLeading;
    }
  }

  // Rule is a thin horizontal line across the text width.
  void Rule() {
    if (!NeedLine(8)) return;
    const double y = y_ - 4;
    pages_.back() += "q 0.5 w 0.6 G " + FormatPdfNumber(kMargin) + " " + FormatPdfNumber(y) +
                     " m " + FormatPdfNumber(kPageW - kMargin) + " " + FormatPdfNumber(y) +
                     " l S Q\n";
    y_ -= 8;
  }

  // KeepTogether starts a new page unless `height` more points fit on this one, so that a
  // heading is not left alone at the bottom of a page.
  void KeepTogether(double height) {
    if (!pages_.empty() && y_ - height < kMargin && y_ < kPageH - kMargin) {
      y_ = kMargin - 1;  // the next line starts a page (or hits the page limit)
    }
  }

  void Space(double points) {
    if (!pages_.empty() && y_ - points > kMargin) y_ -= points;
  }

  // Footer writes `text` centred in the bottom margin of page `page`.
  void Footer(std::size_t page, std::string_view text, double baseline, Rgb colour) {
    const std::string clean = Clean(text);
    const double w = Width(regular(), clean, kFooterSize);
    Draw(page, regular(), clean, kFooterSize, std::max(kMargin, (kPageW - w) / 2), baseline,
         colour);
  }

 private:
  double Baseline(double size) const { return y_ - size; }

  // NeedLine makes room for a line `height` high, starting a page when this one is full. False
  // when the page limit is reached: the line is not drawn.
  bool NeedLine(double height) {
    if (truncated_) return false;
    if (pages_.empty() || y_ - height < kMargin) {
      if (pages_.size() >= max_pages_) {
        truncated_ = true;
        return false;
      }
      pages_.emplace_back();
      y_ = kPageH - kMargin;
    }
    return true;
  }

  // Clean makes `text` drawable: control characters become spaces, bidirectional and invisible
  // formatting characters go, characters a face lacks become "?", and a very long value is cut.
  std::string Clean(std::string_view text) {
    const bool cut = text.size() > kMaxValueLen;
    if (cut) text = text.substr(0, kMaxValueLen);
    std::string out;
    for (char32_t cp : LenientDecode(text)) {
      if (cp < 0x20 || (cp >= 0x7f && cp < 0xa0)) {
        out += ' ';
      } else if (IsDropped(cp)) {
        continue;
      } else if (!Covered(cp)) {
        out += '?';
      } else {
        AppendUtf8(cp, &out);
      }
    }
    if (cut) out += "…";
    return out;
  }

  bool Covered(char32_t cp) {
    auto it = covered_.find(cp);
    if (it != covered_.end()) return it->second;
    std::string utf8;
    AppendUtf8(cp, &utf8);
    bool ok = true;
    for (const sign::PdfFont& f : faces_) ok = ok && f.font().Shape(utf8).ok();
    covered_.emplace(cp, ok);
    return ok;
  }

  // Width of clean text; one code point at a time for pieces of unbreakable words.
  double Width(int face, std::string_view clean, double size) {
    if (clean.empty()) return 0;
    Result<double> w = faces_[face].font().Width(clean, size);
    return w.ok() ? *w : size * 0.5 * static_cast<double>(clean.size());
  }

  // Pieces splits a word wider than `width` into pieces that fit (at least one code point
  // each).
  std::vector<std::string> Pieces(int face, const std::string& word, double size, double width) {
    std::vector<std::string> out(1);
    double w = 0;
    Result<std::u32string> cps = sign::DecodeUtf8(word);
    if (!cps.ok()) return {word};
    for (char32_t cp : *cps) {
      std::string one;
      AppendUtf8(cp, &one);
      const double cw = CodePointWidth(face, cp, one) * size;
      if (!out.back().empty() &&
          (w + cw > width || out.back().size() + one.size() > kMaxPieceLen)) {
        out.emplace_back();
        w = 0;
      }
      out.back() += one;
      w += cw;
    }
    return out;
  }

  double CodePointWidth(int face, char32_t cp, const std::string& utf8) {
    const auto key = std::make_pair(face, cp);
    auto it = cp_width_.find(key);
    if (it == cp_width_.end()) it = cp_width_.emplace(key, Width(face, utf8, 1)).first;
    return it->second;
  }

  // Wrap breaks clean text at spaces into lines of at most `first` points (the first line)
  // and `rest` (the others); a word longer than a line is split.
  std::vector<std::string> Wrap(int face, const std::string& text, double size, double first,
                                double rest) {
    std::vector<std::string> tokens;
    for (std::size_t pos = 0; pos < text.size();) {
      const std::size_t end = std::min(text.find(' ', pos), text.size());
      if (end > pos) {
        std::string word = text.substr(pos, end - pos);
        if (word.size() > kMaxPieceLen || Width(face, word, size) > rest) {
          for (std::string& p : Pieces(face, word, size, rest)) tokens.push_back(std::move(p));
        } else {
          tokens.push_back(std::move(word));
        }
      }
      pos = end + 1;
    }
    const double space = Width(face, " ", size);
    std::vector<std::string> lines;
    std::string line;
    double line_w = 0;
    double limit = first;
    for (const std::string& t : tokens) {
      const double w = Width(face, t, size);
      if (line.empty()) {
        if (w > limit && lines.empty() && limit < rest) {  // does not fit beside the label
          lines.emplace_back();
          limit = rest;
        }
        line = t;
        line_w = w;
      } else if (line_w + space + w <= limit && line.size() + t.size() < kMaxPieceLen) {
        line += " " + t;
        line_w += space + w;
      } else {
        lines.push_back(std::move(line));
        limit = rest;
        line = t;
        line_w = w;
      }
    }
    if (!line.empty()) lines.push_back(std::move(line));
    return lines;
  }

  // Draw shows clean text with its baseline starting at (x, baseline) on page `page`, and
  // records its glyphs for the font subset and the ToUnicode CMap.
  void Draw(std::size_t page, int face, const std::string& text, double size, double x,
            double baseline, Rgb colour) {
    if (text.empty()) return;
    sign::PdfFont& f = faces_[face];
    Result<std::vector<sign::ShapedGlyph>> shaped = f.AddText(text);
    if (!shaped.ok()) return;  // Clean leaves nothing Shape refuses; draw nothing rather than fail
    pages_[page] += "BT /F" + std::to_string(face) + " " + FormatPdfNumber(size) + " Tf " +
                    FormatPdfNumber(colour.r) + " " + FormatPdfNumber(colour.g) + " " +
                    FormatPdfNumber(colour.b) + " rg\n" +
                    f.ShowGlyphs(*shaped, x, baseline, size) + "ET\n";
  }

  std::size_t max_pages_;
  std::vector<sign::PdfFont> faces_;
  std::vector<std::string> pages_;
  double y_ = 0;
  bool truncated_ = false;
  std::map<char32_t, bool> covered_;
  std::map<std::pair<int, char32_t>, double> cp_width_;
};

// ------------------------------------------------------------------------------------------
// The report's content: what ToHtml shows, in the same order and words.

void RenderSignature(Layout& l, const SignatureReport& s, int n) {
  l.Space(3);
  l.KeepTogether(4 * kBodySize * kLeading);  // the heading, the verdict and two rows
  l.Paragraph("Chữ ký " + std::to_string(n) + (s.field.empty() ? "" : " (" + s.field + ")") +
                  (s.format.empty() ? "" : ", " + s.format),
              l.bold(), kBodySize, kBlack, kSigIndent / 2);
  l.Row("Kết quả",
        std::string(VerdictVi(s.indication)) + " (" + s.indication +
            (s.sub_indication.empty() ? "" : "/" + s.sub_indication) + ")",
        VerdictColour(s.indication), true);
  if (!s.message.empty()) l.Row("Lý do", s.message);
  l.Row("Người ký", s.signer);
  l.Row("Đơn vị quản lý", s.managing_unit.empty() ? "không ghi trong chứng thư số" : s.managing_unit);
  l.Row("Tổ chức cấp chứng thư số", s.issuer);
  l.Row("Tính toàn vẹn", IntegrityVi(s));
  l.Row("Hiệu lực của chứng thư số khi ký", ValidityAtSigningVi(s));
  if (s.not_before && s.not_after) {
    l.Row("Hiệu lực chứng thư số",
          FormatTimeVn(*s.not_before) + " đến " + FormatTimeVn(*s.not_after));
  }
  l.Row("Thời gian ký (tự khai)", s.signing_time ? FormatTimeVn(*s.signing_time) : "không có");
  l.Row("Thời gian theo dấu thời gian",
        s.timestamp_time ? FormatTimeVn(*s.timestamp_time) : "không có");
  l.Row("Trạng thái chứng thư số", RevocationVi(s.revocation),
        s.revocation.status == "revoked" ? kRed : kBlack, s.revocation.status == "revoked");
  if (s.format.rfind("PAdES", 0) == 0) {
    l.Row("Phủ toàn bộ tài liệu", s.covers_whole_document ? "có" : "không");
  }
  for (const Modification& m : s.modifications_after) {
    l.Row("Sau khi ký, bản sửa " + std::to_string(m.revision),
          std::string(ModificationVi(m.klass)) +
              (m.allowed ? "" : ": CẢNH BÁO: nội dung đã bị thay đổi sau khi ký") +
              (m.attack.empty() ? "" : " (dấu hiệu tấn công: " + m.attack + ")"),
          m.allowed ? kBlack : kRed, !m.allowed);
  }
  for (const std::string& w : s.warnings) l.Row("Cảnh báo", w, kRed, false);
}

void RenderFile(Layout& l, const FileReport& r, std::size_t index) {
  l.Space(6);
  l.KeepTogether(2 * kHeadingSize * kLeading + 3 * kBodySize * kLeading);
  l.Paragraph("Tệp " + std::to_string(index) + ": " + r.file, l.bold(), kHeadingSize, kBlack);
  l.Paragraph("Kết quả: " + std::string(VerdictVi(r.indication)) + " (" + r.indication + ")",
              l.bold(), kHeadingSize, VerdictColour(r.indication));
  // The warning R6.3 wants prominent: repeated under the file's verdict, before the details.
  const bool changed =
      std::any_of(r.signatures.begin(), r.signatures.end(), [](const SignatureReport& s) {
        return std::any_of(s.modifications_after.begin(), s.modifications_after.end(),
                           [](const Modification& m) { return !m.allowed; });
      });
  if (changed) {
    l.Paragraph("CẢNH BÁO: nội dung đã bị thay đổi sau khi ký", l.bold(), kHeadingSize, kRed);
  }
  if (!r.error.empty()) l.Paragraph("Lỗi: " + r.error, l.regular(), kBodySize, kRed);
  if (r.error.empty() && r.signatures.empty()) {
    l.Paragraph("Tệp không có chữ ký số nào.", l.regular(), kBodySize, kBlack);
  }
  int n = 0;
  for (const SignatureReport& s : r.signatures) RenderSignature(l, s, ++n);
  l.Rule();
}

void RenderReport(Layout& l, const std::vector<FileReport>& reports, Time checked_at) {
  l.Centred("BÁO CÁO KIỂM TRA CHỮ KÝ SỐ", l.bold(), kTitleSize, kBlack);
  l.Space(4);
  l.Paragraph("Thời điểm kiểm tra: " + FormatTimeVn(checked_at), l.regular(), kBodySize, kBlack);
  l.Paragraph("Tổng hợp: " + SummaryVi(reports), l.bold(), kBodySize, kBlack);
  l.Rule();
  std::size_t index = 0;
  for (const FileReport& r : reports) {
    RenderFile(l, r, ++index);
    if (l.truncated()) break;
  }
}

void NumberPages(Layout& l, std::size_t max_pages) {
  const std::size_t total = l.pages().size();
  for (std::size_t i = 0; i < total; ++i) {
    l.Footer(i, "Trang " + std::to_string(i + 1) + "/" + std::to_string(total), kFooterBaseline,
             kGrey);
  }
  if (l.truncated()) {
    l.Footer(total - 1,
             "Báo cáo bị cắt: vượt quá giới hạn " + std::to_string(max_pages) +
                 " trang. Xem báo cáo đầy đủ bằng --format json.",
             kFooterBaseline + kFooterSize * kLeading, kRed);
  }
}

// ------------------------------------------------------------------------------------------
// The PDF objects, with qpdf. Its exceptions stop in ToPdf.

// PdfDate is "D:20261125070309Z".
std::string PdfDate(Time t) {
  std::string iso = FormatIso8601Utc(t);  // 2026-11-25T07:03:09Z
  std::string out = "D:";
  for (char c : iso) {
    if (c != '-' && c != ':' && c != 'T') out += c;
  }
  return out;
}

Result<Bytes> WritePdf(Layout& l, Time checked_at) {
  QPDF pdf;
  pdf.emptyPDF();
  QPDFObjectHandle font_dict = QPDFObjectHandle::newDictionary();
  for (std::size_t i = 0; i < l.faces().size(); ++i) {
    if (l.faces()[i].empty()) continue;
    KYSO_ASSIGN_OR_RETURN(QPDFObjectHandle font, l.faces()[i].AddToPdf(pdf));
    font_dict.replaceKey("/F" + std::to_string(i), font);
  }
  QPDFObjectHandle resources = QPDFObjectHandle::newDictionary();
  resources.replaceKey("/Font", font_dict);
  resources = pdf.makeIndirectObject(resources);
  QPDFPageDocumentHelper pages(pdf);
  for (const std::string& content : l.pages()) {
    QPDFObjectHandle page = QPDFObjectHandle::parse(
        "<< /Type /Page /MediaBox [0 0 " + FormatPdfNumber(kPageW) + " " +
        FormatPdfNumber(kPageH) + "] >>");
    page.replaceKey("/Resources", resources);
    page.replaceKey("/Contents", pdf.newStream(content));
    pages.addPage(QPDFPageObjectHelper(pdf.makeIndirectObject(page)), false);
  }
  pdf.getRoot().replaceKey("/Lang", QPDFObjectHandle::newUnicodeString("vi"));
  QPDFObjectHandle info = QPDFObjectHandle::newDictionary();
  info.replaceKey("/Title", QPDFObjectHandle::newUnicodeString("Báo cáo kiểm tra chữ ký số"));
  info.replaceKey("/Producer", QPDFObjectHandle::newString("kyso"));
  info.replaceKey("/CreationDate", QPDFObjectHandle::newString(PdfDate(checked_at)));
  pdf.getTrailer().replaceKey("/Info", pdf.makeIndirectObject(info));

  QPDFWriter writer(pdf);
  writer.setOutputMemory();
  writer.setDeterministicID(true);  // /ID from the content: no clock, no randomness
  writer.setCompressStreams(true);
  writer.setMinimumPDFVersion("1.7");
  writer.write();
  std::shared_ptr<Buffer> buf = writer.getBufferSharedPointer();
  return Bytes(buf->getBuffer(), buf->getBuffer() + buf->getSize());
}

}  // namespace

Result<ReportFonts> ReportFonts::LoadDefault() {
  ReportFonts fonts;
  KYSO_ASSIGN_OR_RETURN(fonts.regular, sign::Font::Load(sign::kDefaultFontPath),
                        "phông chữ của báo cáo PDF");
  Result<std::unique_ptr<sign::Font>> bold = sign::Font::Load(kDefaultBoldFontPath);
  if (bold.ok()) fonts.bold = std::move(*bold);
  return fonts;
}

Result<Bytes> ToPdf(const std::vector<FileReport>& reports, const ReportFonts& fonts,
                    const PdfReportOptions& options) {
  if (fonts.regular == nullptr) return InvalidArgumentError("ToPdf: no regular font");
  if (options.max_pages == 0 || options.max_pages > kMaxReportPages) {
    return InvalidArgumentError("max_pages must be 1.." + std::to_string(kMaxReportPages));
  }
  Layout layout(fonts, options.max_pages);
  RenderReport(layout, reports, options.checked_at);
  NumberPages(layout, options.max_pages);
  try {
    return WritePdf(layout, options.checked_at);
  } catch (const std::exception& e) {
    return InternalError(std::string("qpdf: ") + e.what());
  }
}

}  // namespace kyso::verify
