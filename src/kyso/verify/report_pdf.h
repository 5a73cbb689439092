#pragma once

// The human verification report of R6.3 as PDF (`kyso verify --format pdf`): the content of
// ToHtml (report.h), laid out on A4 pages in Vietnamese with an embedded subset of Liberation
// Serif, so that text extraction (pdftotext, copy and paste) gives the Vietnamese back.
//
// Target kyso_report_pdf (report_pdf.cmake): it needs the HarfBuzz font code of sign/, which
// kyso_verify must not depend on (sign/ uses verify/).

#include <cstddef>
#include <memory>
#include <vector>

#include "kyso/base/bytes.h"
#include "kyso/base/clock.h"
#include "kyso/base/status.h"
#include "kyso/sign/font.h"
#include "kyso/verify/report.h"

namespace kyso::verify {

// kMaxReportPages bounds the PDF report. A batch that needs more pages is cut there and the
// last page says so (the JSON report stays complete).
inline constexpr std::size_t kMaxReportPages = 10000;

// kDefaultBoldFontPath is the bold face of sign::kDefaultFontPath (fonts-liberation2).
inline constexpr char kDefaultBoldFontPath[] =
    "/usr/share/fonts/truetype/liberation2/LiberationSerif-Bold.ttf";

// ReportFonts are the faces the PDF report draws with. `bold` may be null: headings and
// verdicts then use `regular`.
struct ReportFonts {
  std::unique_ptr<sign::Font> regular;
  std::unique_ptr<sign::Font> bold;

  // LoadDefault loads sign::kDefaultFontPath (required: its error is returned) and
  // kDefaultBoldFontPath (optional: left null when it cannot be loaded).
  static Result<ReportFonts> LoadDefault();
};

// PdfReportOptions controls ToPdf.
struct PdfReportOptions {
  Time checked_at;                          // printed as the time of the check; /CreationDate
  std::size_t max_pages = kMaxReportPages;  // 1..kMaxReportPages
};

// ToPdf is the R6.3 report of `reports` as a whole PDF file: a header ("BÁO CÁO KIỂM TRA CHỮ
// KÝ SỐ", the time of the check, SummaryVi), then per file its verdict and per signature the
// verdict, reason, signer, issuer, certificate validity, signing and timestamp times,
// revocation status, the revisions written after signing (a disallowed one is drawn in red with
// "nội dung đã bị thay đổi sau khi ký"), and the warnings. Long lines wrap; pages are numbered.
// Characters the fonts lack print as "?", control characters as spaces, and bidirectional
// controls are dropped (a file name cannot reorder the report). The output depends only on
// the arguments: the same reports, time and fonts give the same bytes (deterministic /ID).
// `fonts` is borrowed for the call; fonts.regular must not be null (kInvalidArgument).
Result<Bytes> ToPdf(const std::vector<FileReport>& reports, const ReportFonts& fonts,
                    const PdfReportOptions& options);

}  // namespace kyso::verify
