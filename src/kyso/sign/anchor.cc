#include "kyso/sign/anchor.h"

#include <poppler-document.h>
#include <poppler-global.h>
#include <poppler-page.h>
#include <poppler-rectangle.h>
#include <unicode/unorm2.h>
#include <unicode/ustring.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <exception>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <utility>

namespace kyso::sign {
namespace {

// Poppler reports syntax errors of the PDF on stderr; they are not kyso's to print.
void IgnorePopplerMessage(const std::string& /*message*/, void* /*closure*/) {}

void SilencePoppler() {
  static std::once_flag once;
  std::call_once(once, [] { poppler::set_debug_error_function(&IgnorePopplerMessage, nullptr); });
}

// ---- UTF-8 -----------------------------------------------------------------------------------

constexpr char32_t kBadByte = 0xFFFFFFFF;  // a byte that does not start valid UTF-8

// DecodeAt decodes the code point at `pos`; bad UTF-8 gives kBadByte and a length of 1.
char32_t DecodeAt(std::string_view s, std::size_t pos, std::size_t* len) {
  const auto b0 = static_cast<uint8_t>(s[pos]);
  *len = 1;
  if (b0 < 0x80) return b0;
  std::size_t n = 0;
  char32_t cp = 0;
  char32_t min = 0;
  if ((b0 & 0xE0) == 0xC0) {
    n = 2, cp = b0 & 0x1F, min = 0x80;
  } else if ((b0 & 0xF0) == 0xE0) {
    n = 3, cp = b0 & 0x0F, min = 0x800;
  } else if ((b0 & 0xF8) == 0xF0) {
    n = 4, cp = b0 & 0x07, min = 0x10000;
  } else {
    return kBadByte;
  }
  if (pos + n > s.size()) return kBadByte;
  for (std::size_t i = 1; i < n; ++i) {
    const auto b = static_cast<uint8_t>(s[pos + i]);
    if ((b & 0xC0) != 0x80) return kBadByte;
    cp = (cp << 6) | (b & 0x3F);
  }
  if (cp < min || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) return kBadByte;
  *len = n;
  return cp;
}

bool IsValidUtf8(std::string_view s) {
  for (std::size_t pos = 0; pos < s.size();) {
    std::size_t len = 0;
    if (DecodeAt(s, pos, &len) == kBadByte) return false;
    pos += len;
  }
  return true;
}

bool IsSpace(char32_t cp) {
  return cp == ' ' || cp == '\t' || cp == '\n' || cp == '\r' || cp == '\f' || cp == '\v' ||
         cp == 0xA0 || (cp >= 0x2000 && cp <= 0x200A) || cp == 0x202F || cp == 0x205F ||
         cp == 0x3000;
}

// IsWordChar: letters and digits, and every non-ASCII character except spaces and punctuation
// (see FindSecretMarkerInText). Bad bytes count as letters: they never make a boundary.
bool IsWordChar(char32_t cp) {
  if (cp == kBadByte) return true;
  if (cp < 0x80) {
    return (cp >= '0' && cp <= '9') || (cp >= 'A' && cp <= 'Z') || (cp >= 'a' && cp <= 'z');
  }
  if (cp <= 0xBF || cp == 0xD7 || cp == 0xF7) return false;
  if ((cp >= 0x2000 && cp <= 0x206F) || (cp >= 0x3000 && cp <= 0x303F) || cp == 0xFEFF) {
    return false;
  }
  return true;
}

// ToNfc converts UTF-8 to Unicode NFC with ICU; bad bytes become U+FFFD. False if ICU fails.
bool ToNfc(std::string_view in, std::string* out) {
  UErrorCode err = U_ZERO_ERROR;
  const UNormalizer2* nfc = unorm2_getNFCInstance(&err);
  if (U_FAILURE(err) || in.size() > static_cast<std::size_t>(INT32_MAX / 4)) return false;
  const auto in_len = static_cast<int32_t>(in.size());
  std::vector<UChar> utf16(in.size() + 1);
  int32_t len16 = 0;
  u_strFromUTF8WithSub(utf16.data(), static_cast<int32_t>(utf16.size()), &len16, in.data(), in_len,
                       0xFFFD, nullptr, &err);
  if (U_FAILURE(err)) return false;
  // NFC expands by at most 3 times (Unicode UAX #15); a smaller result is the rule.
  std::vector<UChar> normal(static_cast<std::size_t>(len16) * 3 + 1);
  const int32_t len_nfc = unorm2_normalize(nfc, utf16.data(), len16, normal.data(),
                                           static_cast<int32_t>(normal.size()), &err);
  if (U_FAILURE(err)) return false;
  out->resize(static_cast<std::size_t>(len_nfc) * 3 + 1);
  int32_t len8 = 0;
  u_strToUTF8(out->data(), static_cast<int32_t>(out->size()), &len8, normal.data(), len_nfc, &err);
  if (U_FAILURE(err)) return false;
  out->resize(static_cast<std::size_t>(len8));
  return true;
}

// TextNormalizer brings text to the form needles and markers are compared in: Unicode NFC,
// bad UTF-8 as U+FFFD, every run of whitespace as one ASCII space, none at the start or the
// end. Text may be fed in pieces; NFC is exact when pieces are split just before an ASCII
// byte (no character composes with a following ASCII one).
class TextNormalizer final {
 public:
  void Append(std::string_view piece, std::string* out) {
    const bool ascii = std::all_of(piece.begin(), piece.end(),
                                   [](char c) { return static_cast<uint8_t>(c) < 0x80; });
    if (!ascii && ToNfc(piece, &nfc_)) piece = nfc_;
    for (std::size_t pos = 0; pos < piece.size();) {
      std::size_t len = 0;
      const char32_t cp = DecodeAt(piece, pos, &len);
      if (IsSpace(cp)) {
        pending_space_ = started_;
      } else {
        if (pending_space_) out->push_back(' ');
        pending_space_ = false;
        started_ = true;
        out->append(piece.substr(pos, len));
      }
      pos += len;
    }
  }

 private:
  bool pending_space_ = false;
  bool started_ = false;
  std::string nfc_;
};

// Normalize is TextNormalizer over one short string.
std::string Normalize(std::string_view s) {
  std::string out;
  TextNormalizer().Append(s, &out);
  return out;
}

// The code point ending just before `pos` (pos > 0).
char32_t DecodeBefore(std::string_view s, std::size_t pos) {
  std::size_t start = pos - 1;
  while (start > 0 && pos - start < 4 && (static_cast<uint8_t>(s[start]) & 0xC0) == 0x80) {
    --start;
  }
  std::size_t len = 0;
  const char32_t cp = DecodeAt(s, start, &len);
  return start + len == pos ? cp : kBadByte;
}

std::string ToUtf8(const poppler::ustring& u) {
  const poppler::byte_array bytes = u.to_utf8();
  return std::string(bytes.begin(), bytes.end());
}

// ---- poppler ---------------------------------------------------------------------------------

Result<std::unique_ptr<poppler::document>> OpenPdf(ByteSpan pdf) {
  if (pdf.size() > kMaxPdfLen) return InvalidArgumentError("PDF larger than 512 MiB");
  if (pdf.empty()) return InvalidArgumentError("not a PDF: the input is empty");
  SilencePoppler();
  // load_from_raw_data borrows the buffer; `pdf` outlives the document in every caller.
  std::unique_ptr<poppler::document> doc(poppler::document::load_from_raw_data(
      reinterpret_cast<const char*>(pdf.data()), static_cast<int>(pdf.size())));
  if (doc == nullptr) return InvalidArgumentError("not a PDF that can be read");
  if (doc->is_locked() || doc->is_encrypted()) {
    return InvalidArgumentError("the PDF is encrypted");
  }
  if (doc->pages() < 1) return InvalidArgumentError("the PDF has no pages");
  return doc;
}

Result<std::unique_ptr<poppler::page>> OpenPage(const poppler::document& doc, int page) {
  if (page < 1 || page > doc.pages()) {
    return InvalidArgumentError("no page " + std::to_string(page) + " (the PDF has " +
                                std::to_string(doc.pages()) + ")");
  }
  std::unique_ptr<poppler::page> p(doc.create_page(page - 1));
  if (p == nullptr) return InvalidArgumentError("page " + std::to_string(page) + " is damaged");
  return p;
}

// Word is one of poppler's text boxes. Boxes are in poppler's device space: points, origin at
// the top left of the page as displayed (crop box, after /Rotate), y down.
struct Word {
  std::string text;
  poppler::rectf box;
  int rotation = 0;  // 0..3: the direction of the text as displayed, in quarter turns
  bool space_after = false;
};

// Line is words on one line, with their text joined and each word's place in it.
struct Line {
  std::string text;
  std::vector<Word> words;
  std::vector<std::pair<std::size_t, std::size_t>> spans;  // [begin, end) of words[i] in text
};

double Thickness(const Word& w) { return (w.rotation % 2 == 0) ? w.box.height() : w.box.width(); }

// SameLine: `next` continues the line of `prev`: same direction, centres across the line
// closer than half the thinner word, and further along the line.
bool SameLine(const Word& prev, const Word& next) {
  if (prev.rotation != next.rotation) return false;
  const double pcx = prev.box.x() + prev.box.width() / 2;
  const double pcy = prev.box.y() + prev.box.height() / 2;
  const double ncx = next.box.x() + next.box.width() / 2;
  const double ncy = next.box.y() + next.box.height() / 2;
  const double limit = std::min(Thickness(prev), Thickness(next)) / 2;
  switch (prev.rotation) {
    case 0:
      return std::abs(pcy - ncy) < limit && ncx > pcx;
    case 1:
      return std::abs(pcx - ncx) < limit && ncy > pcy;
    case 2:
      return std::abs(pcy - ncy) < limit && ncx < pcx;
    default:
      return std::abs(pcx - ncx) < limit && ncy < pcy;
  }
}

std::vector<Line> PageLines(const poppler::page& page) {
  std::vector<Line> lines;  // every line has at least one word
  for (const poppler::text_box& tb : page.text_list()) {
    Word w{Normalize(ToUtf8(tb.text())), tb.bbox(), tb.rotation() & 3, tb.has_space_after()};
    if (w.text.empty()) continue;
    if (lines.empty() || !SameLine(lines.back().words.back(), w)) {
      lines.emplace_back();
    } else if (lines.back().words.back().space_after) {
      lines.back().text.push_back(' ');
    }
    Line& line = lines.back();
    const std::size_t begin = line.text.size();
    line.text += w.text;
    line.spans.emplace_back(begin, line.text.size());
    line.words.push_back(std::move(w));
  }
  return lines;
}

// PageGeometry turns device boxes into default user space.
struct PageGeometry {
  double x1 = 0, y1 = 0, x2 = 0, y2 = 0;  // the crop box in user space
  int rotate = 0;                         // the page's /Rotate: 0, 90, 180, 270

  explicit PageGeometry(const poppler::page& page) {
    const poppler::rectf crop = page.page_rect(poppler::crop_box);
    x1 = std::min(crop.left(), crop.right());
    x2 = std::max(crop.left(), crop.right());
    y1 = std::min(crop.top(), crop.bottom());
    y2 = std::max(crop.top(), crop.bottom());
    switch (page.orientation()) {
      case poppler::page::landscape:
        rotate = 90;
        break;
      case poppler::page::upside_down:
        rotate = 180;
        break;
      case poppler::page::seascape:
        rotate = 270;
        break;
      default:
        rotate = 0;
    }
  }

  // ToUser inverts poppler's device transformation (GfxState at 72 dpi, upside down) for the
  // page's rotation; checked by anchor_test on pages turned by each quarter.
  void ToUser(double dx, double dy, double* ux, double* uy) const {
    switch (rotate) {
      case 90:
        *ux = x1 + dy, *uy = y1 + dx;
        break;
      case 180:
        *ux = x2 - dx, *uy = y1 + dy;
        break;
      case 270:
        *ux = x2 - dy, *uy = y2 - dx;
        break;
      default:
        *ux = x1 + dx, *uy = y2 - dy;
    }
  }

  PdfRect ToUser(const poppler::rectf& device) const {
    double ax = 0, ay = 0, bx = 0, by = 0;
    ToUser(device.left(), device.top(), &ax, &ay);
    ToUser(device.right(), device.bottom(), &bx, &by);
    return PdfRect{std::min(ax, bx), std::min(ay, by), std::abs(bx - ax), std::abs(by - ay)};
  }
};

poppler::rectf Union(const poppler::rectf& a, const poppler::rectf& b) {
  const double left = std::min(a.left(), b.left());
  const double top = std::min(a.top(), b.top());
  const double right = std::max(a.right(), b.right());
  const double bottom = std::max(a.bottom(), b.bottom());
  return poppler::rectf(left, top, right - left, bottom - top);
}

void FindOnPage(const poppler::page& page, int page_number, const std::string& needle,
                std::vector<TextHit>* hits) {
  std::vector<std::pair<poppler::rectf, TextHit>> found;
  const PageGeometry geometry(page);
  for (const Line& line : PageLines(page)) {
    for (std::size_t pos = line.text.find(needle); pos != std::string::npos;
         pos = line.text.find(needle, pos + needle.size())) {
      const std::size_t end = pos + needle.size();
      std::optional<poppler::rectf> box;
      for (std::size_t i = 0; i < line.words.size(); ++i) {
        if (line.spans[i].first < end && line.spans[i].second > pos) {
          box = box ? Union(*box, line.words[i].box) : line.words[i].box;
        }
      }
      if (box) found.emplace_back(*box, TextHit{page_number, geometry.ToUser(*box)});
    }
  }
  std::stable_sort(found.begin(), found.end(), [](const auto& a, const auto& b) {
    if (a.first.top() != b.first.top()) return a.first.top() < b.first.top();
    return a.first.left() < b.first.left();
  });
  for (auto& [device_box, hit] : found) hits->push_back(hit);
}

std::string JoinLines(const std::vector<Line>& lines) {
  std::string text;
  for (const Line& line : lines) {
    if (!text.empty()) text.push_back('\n');
    text += line.text;
  }
  return text;
}

Status PopplerFailed(const std::exception& e) {
  return InvalidArgumentError(std::string("the PDF could not be read: ") + e.what());
}

// ---- secret markers --------------------------------------------------------------------------

// FindSecretMarkerInText reads its text in pieces of kPieceLen and scans the normalized text
// in windows of kScanWindowLen, so a large document is never copied whole.
constexpr std::size_t kPieceLen = 64 * 1024;
constexpr std::size_t kScanWindowLen = 1024 * 1024;

// PieceEnd: where the piece from `pos` ends: about kPieceLen on, just before an ASCII byte
// (so NFC is exact), or at a UTF-8 lead byte if there is no ASCII for another kPieceLen.
std::size_t PieceEnd(std::string_view s, std::size_t pos) {
  if (s.size() - pos <= kPieceLen) return s.size();
  const std::size_t want = pos + kPieceLen;
  const std::size_t limit = std::min(s.size(), want + kPieceLen);
  for (std::size_t e = want; e < limit; ++e) {
    if (static_cast<uint8_t>(s[e]) < 0x80) return e;
  }
  if (limit == s.size()) return limit;
  std::size_t e = want;
  while (e > pos + 1 && (static_cast<uint8_t>(s[e]) & 0xC0) == 0x80) --e;
  return e;
}

// MarkerScan finds markers in normalized text that arrives in windows. A match is judged only
// when the characters on both sides of it are known; the end of a window that is not the last
// is kept for the next one, long enough that no match is lost.
class MarkerScan final {
 public:
  explicit MarkerScan(const std::vector<std::string>& markers) : markers_(markers) {
    for (const std::string& m : markers) {
      wanted_.push_back(Normalize(m));
      keep_ = std::max(keep_, wanted_.back().size() + 8);
    }
    found_.assign(markers.size(), false);
  }

  // done: the first marker was found; no other can take its place.
  bool done() const { return !found_.empty() && found_[0]; }

  // Scan looks for every marker not yet found in *window, then (unless `last`) drops what
  // the next window does not need.
  void Scan(std::string* window, bool last) {
    const std::string& text = *window;
    for (std::size_t i = 0; i < wanted_.size(); ++i) {
      const std::string& w = wanted_[i];
      if (found_[i] || w.empty()) continue;
      std::size_t len = 0;
      // A boundary is needed only where the marker itself begins or ends with a letter.
      const bool need_before = IsWordChar(DecodeAt(w, 0, &len));
      const bool need_after = IsWordChar(DecodeBefore(w, w.size()));
      for (std::size_t pos = text.find(w); pos != std::string::npos; pos = text.find(w, pos + 1)) {
        if (pos == 0 && !at_start_) continue;  // judged in the previous window
        const std::size_t end = pos + w.size();
        if (!last && end + 4 > text.size()) break;  // the next character may be incomplete
        const bool before_ok = !need_before || pos == 0 || !IsWordChar(DecodeBefore(text, pos));
        const bool after_ok =
            !need_after || end == text.size() || !IsWordChar(DecodeAt(text, end, &len));
        if (before_ok && after_ok) {
          found_[i] = true;
          break;
        }
      }
    }
    if (last || window->size() <= keep_) return;
    std::size_t cut = window->size() - keep_;
    while (cut > 0 && (static_cast<uint8_t>((*window)[cut]) & 0xC0) == 0x80) --cut;
    if (cut == 0) return;
    window->erase(0, cut);
    at_start_ = false;
  }

  std::optional<std::string> Result() const {
    for (std::size_t i = 0; i < found_.size(); ++i) {
      if (found_[i]) return markers_[i];
    }
    return std::nullopt;
  }

 private:
  const std::vector<std::string>& markers_;
  std::vector<std::string> wanted_;
  std::vector<bool> found_;
  std::size_t keep_ = 8;
  bool at_start_ = true;
};

}  // namespace

Result<std::vector<TextHit>> FindText(ByteSpan pdf, std::string_view needle, int page) {
  if (needle.size() > kMaxNeedleLen) {
    return InvalidArgumentError("the text to find is longer than 256 bytes");
  }
  if (!IsValidUtf8(needle)) return InvalidArgumentError("the text to find is not UTF-8");
  const std::string wanted = Normalize(needle);
  if (wanted.empty()) return InvalidArgumentError("the text to find is empty");
  if (page < 0) return InvalidArgumentError("no page " + std::to_string(page));
  try {
    KYSO_ASSIGN_OR_RETURN(std::unique_ptr<poppler::document> doc, OpenPdf(pdf));
    const int first = page == 0 ? 1 : page;
    const int last = page == 0 ? doc->pages() : page;
    std::vector<TextHit> hits;
    for (int n = first; n <= last; ++n) {
      KYSO_ASSIGN_OR_RETURN(std::unique_ptr<poppler::page> p, OpenPage(*doc, n));
      FindOnPage(*p, n, wanted, &hits);
    }
    return hits;
  } catch (const std::exception& e) {
    return PopplerFailed(e);
  }
}

Result<std::string> PageText(ByteSpan pdf, int page) {
  try {
    KYSO_ASSIGN_OR_RETURN(std::unique_ptr<poppler::document> doc, OpenPdf(pdf));
    KYSO_ASSIGN_OR_RETURN(std::unique_ptr<poppler::page> p, OpenPage(*doc, page));
    return JoinLines(PageLines(*p));
  } catch (const std::exception& e) {
    return PopplerFailed(e);
  }
}

std::optional<std::string> FindSecretMarkerInText(std::string_view utf8,
                                                  const std::vector<std::string>& markers) {
  MarkerScan scan(markers);
  TextNormalizer normalizer;
  std::string window;  // normalized text not yet scanned to its end
  for (std::size_t pos = 0; pos < utf8.size() && !scan.done();) {
    const std::size_t end = PieceEnd(utf8, pos);
    normalizer.Append(utf8.substr(pos, end - pos), &window);
    pos = end;
    if (window.size() >= kScanWindowLen) scan.Scan(&window, /*last=*/false);
  }
  if (!scan.done()) scan.Scan(&window, /*last=*/true);
  return scan.Result();
}

Result<std::optional<std::string>> FindSecretMarker(ByteSpan pdf,
                                                    const std::vector<std::string>& markers) {
  try {
    KYSO_ASSIGN_OR_RETURN(std::unique_ptr<poppler::document> doc, OpenPdf(pdf));
    KYSO_ASSIGN_OR_RETURN(std::unique_ptr<poppler::page> first, OpenPage(*doc, 1));
    std::optional<std::string> found =
        FindSecretMarkerInText(JoinLines(PageLines(*first)), markers);
    if (found) return found;
    for (const poppler::ustring& value :
         {doc->get_title(), doc->get_subject(), doc->get_keywords()}) {
      found = FindSecretMarkerInText(ToUtf8(value), markers);
      if (found) return found;
    }
    return std::optional<std::string>();
  } catch (const std::exception& e) {
    return PopplerFailed(e);
  }
}

}  // namespace kyso::sign
