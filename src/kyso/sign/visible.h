#pragma once

// Where a visible signature goes on the page and what it shows: the layout rules of Decree
// 30/2020 Appendix I (R30.1-R30.3) on top of the appearance streams (appearance.h).

#include <optional>
#include <string>
#include <vector>

#include "kyso/base/bytes.h"
#include "kyso/base/clock.h"
#include "kyso/base/status.h"
#include "kyso/sign/appearance.h"
#include "kyso/sign/pdf_signer.h"

namespace kyso::sign {

// AppearanceKind is what a signature shows.
enum class AppearanceKind {
  kNone,    // nothing drawn (an invisible signature, or an empty box)
  kPerson,  // R30.1: the competent person's signature image
  kAgency,  // R30.2: the agency's seal, real size, over the left third of the person's image
  kCopy,    // R30.3: text at the top right of page 1, no image
};

// Default size of a person's signature box placed by anchor text: about 5 x 2 cm, what the
// space between the position title and the name usually holds.
inline constexpr double kPersonBoxWidth = 150;
inline constexpr double kPersonBoxHeight = 60;
// The copy stamp's distance from the page's top and right edges (10 mm and 20 mm) and its
// font size (Times New Roman 10, R30.3).
inline constexpr double kCopyTopMargin = 28.35;
inline constexpr double kCopyRightMargin = 56.69;
inline constexpr double kCopyFontSize = 10;

// Rectangles given here are in points from the bottom left of the page AS DISPLAYED (after
// its /Rotate): what an officer measures on screen. For an unrotated page that is the page's
// own coordinate system (from its crop box's corner).
struct PlacementOptions {
  AppearanceKind kind = AppearanceKind::kNone;
  int page = 0;                 // from 1; 0: page 1, or wherever the anchor is found
  std::optional<PdfRect> rect;  // person/copy: the box; agency: the PERSON's box
  // anchor is text on the page that the person's box sits above (the signer's name line);
  // title, when also given, is the position title above the box: the box then fills the
  // space between them (R30.1). For an agency they locate the person's box.
  std::string anchor;
  std::string title;
  const RasterImage* image = nullptr;   // person: the signature; agency: the seal
  std::optional<double> seal_mm;        // agency: the seal's width in mm (else from its DPI)
  std::vector<std::string> copy_lines;  // copy: the lines above the time
  const Font* font = nullptr;           // copy: the stamp's font (Liberation Serif)
  Time signing_time{};                  // copy: written as ISO 8601 +07:00 (the /M time)
};

// Placement is a visible signature ready for PdfSignOptions: its page, box, drawing and /TU.
struct Placement {
  int page = 1;
  std::optional<PdfRect> rect;  // in the page's user space (the widget's /Rect); none: invisible
  int rotate = 0;               // the page's /Rotate: the appearance is turned to stay upright
  Appearance appearance;
  std::string field_label;
};

// Place computes where and what. Person: the image centred in `rect`, or in the box above the
// last occurrence of `anchor` (between it and `title` when that is found above it). Agency:
// the seal at real size, centred vertically on the person's box, its right edge at one third
// of that box's width; the person's box is `rect`, or found by `anchor`, or else the last
// person's signature kyso placed on the page (or, without a page, in the document).
// Copy: `copy_lines` and the ISO 8601 time, right-aligned, at the top right of page 1.
// Missing inputs (no image, no anchor found, no person signature to seal) are
// kInvalidArgument or kNotFound with a Vietnamese message.
Result<Placement> Place(ByteSpan pdf, const PlacementOptions& options);

// FormatIso8601Vn gives `t` in Vietnam time as "2026-11-25T14:03:09+07:00" (R30.3).
std::string FormatIso8601Vn(Time t);

}  // namespace kyso::sign
