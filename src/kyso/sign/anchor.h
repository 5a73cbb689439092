#pragma once

// Text on a PDF page (poppler-cpp): where a phrase is, for `kyso sign pdf --anchor`, and whether
// a document is marked as a state secret (R6.1: kyso refuses to sign one).
//
// Every function parses its input afresh; nothing is kept between calls. The input is borrowed
// for the call only. Inputs larger than kMaxPdfLen, PDFs poppler cannot open, and encrypted
// PDFs (with or without a user password) are kInvalidArgument, each with one line.

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "kyso/base/bytes.h"
#include "kyso/base/status.h"
#include "kyso/sign/pdf_signer.h"

namespace kyso::sign {

// kMaxNeedleLen bounds the text FindText looks for (bytes of UTF-8).
inline constexpr std::size_t kMaxNeedleLen = 256;

// TextHit is one place where FindText found its text.
struct TextHit {
  int page = 0;  // from 1
  // box is the union of the matched words' boxes in the page's default user space: PDF points,
  // origin at the bottom left of the coordinate system the MediaBox is written in — the
  // coordinates an annotation's /Rect on that page uses, whatever the page's /Rotate.
  PdfRect box;
};

// FindText finds `needle` (UTF-8, case-sensitive) on page `page` (from 1), or on every page
// when `page` is 0. Runs of whitespace in the needle and on the page compare as one space, and
// leading and trailing whitespace of the needle is ignored. A match lies within one line of
// text but may span words ("Nguyễn Văn An") and may begin or end inside a word; its box covers
// the whole words it touches. Hits come in reading order: by page, then as the page is
// displayed (after /Rotate), top to bottom, then left to right. No hit is an empty vector.
// An empty or all-whitespace needle, one longer than kMaxNeedleLen, bad UTF-8 in it, a page
// out of range: kInvalidArgument.
// Text is compared in Unicode NFC (ICU), so a PDF whose ToUnicode gives decomposed letters
// ("Unicode tổ hợp") matches a needle typed precomposed, and the other way round. Nothing else
// is folded: "Nguyen" does not find "Nguyễn".
Result<std::vector<TextHit>> FindText(ByteSpan pdf, std::string_view needle, int page);

// PageText is the text of page `page` (from 1) in UTF-8, NFC: words separated by one space
// (none where poppler sees no gap between two boxes, e.g. at a change of font inside a word),
// lines by '\n', in poppler's reading order. A page out of range is kInvalidArgument.
Result<std::string> PageText(ByteSpan pdf, int page);

// DefaultSecretMarkers are the Vietnamese state-secret grades, most specific first (the order
// decides which one FindSecretMarker reports when several appear).
inline const std::vector<std::string>& DefaultSecretMarkers() {
  static const std::vector<std::string> markers = {"TUYỆT MẬT", "TỐI MẬT", "MẬT"};
  return markers;
}

// FindSecretMarkerInText reports the first of `markers` (in their order) that appears in
// `utf8` as whole word(s), case-sensitive; whitespace runs compare as one space on both sides.
// A word boundary is the start or end of the text, or a character that is not a letter or
// digit: ASCII other than [0-9A-Za-z], and the Unicode spaces and punctuation U+0080-U+00BF,
// U+00D7, U+00F7, U+2000-U+206F (dashes, curly quotes, ...), U+3000-U+303F and U+FEFF. Every
// other non-ASCII character counts as part of a word, so "MẬTT" or "BÍMẬT" do not match while
// "“MẬT”" and "(MẬT)" do. A boundary is needed only where the marker itself begins or ends
// with a letter or digit ("(NỘI BỘ)" needs none). Empty markers are ignored. Not found is
// std::nullopt.
// Text and markers are compared in Unicode NFC (bad UTF-8 as U+FFFD, which counts as a
// letter). The text is read in pieces: memory stays a few MiB whatever its size, and the
// scan stops early once the first marker is found; about 300 MB/s of Vietnamese text.
std::optional<std::string> FindSecretMarkerInText(std::string_view utf8,
                                                  const std::vector<std::string>& markers);

// FindSecretMarker applies FindSecretMarkerInText to page 1's text (PageText) and then to the
// Info dictionary's /Title, /Subject and /Keywords (PDFDocEncoding or UTF-16BE, decoded).
// Returns the marker found, std::nullopt if none; errors as for PageText.
Result<std::optional<std::string>> FindSecretMarker(ByteSpan pdf,
                                                    const std::vector<std::string>& markers);

}  // namespace kyso::sign
