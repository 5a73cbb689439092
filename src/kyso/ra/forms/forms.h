#pragma once

// Bulk request forms of R9.6: Mẫu 01 (individuals) and Mẫu 02 (organisations) of Decree
// 68/2024 Appendix, as CSV files that a managing agency's focal person uploads. Everything
// here is pure: no I/O, no clock, no store. Input is treated as hostile: any byte string gives
// either rows or errors, never a crash, within the bounds of `Limits`.

#include <chrono>
#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

#include "kyso/base/status.h"

namespace kyso::ra::forms {

// FormError is one problem found in a form.
//
// Row numbers are those a user sees when the CSV is opened in a spreadsheet: the header is row
// 1 and the first data row is row 2. A quoted cell holding line breaks stays one row, so after
// such a cell the row number is smaller than the text line number. Row 0 means the whole file
// (empty file, too large, no data rows).
struct FormError {
  std::size_t row = 0;
  std::string column;  // the column's header name, or "" for a whole-row or whole-file problem
  std::string reason;  // Vietnamese, one line, never echoes cell values (they may be personal data)
};

// IndividualRow is one valid, normalised row of Mẫu 01.
struct IndividualRow {
  std::string ho_ten;                       // whitespace runs folded to one space
  std::chrono::year_month_day ngay_sinh{};  // date of birth
  std::string cccd;                         // 12 digits
  std::chrono::year_month_day ngay_cap{};   // CCCD issue date
  std::string noi_cap;                      // CCCD issue place
  std::string email;                        // lower-cased; see EmailDomain() for R9.5
  std::string co_quan;     // agency name or code, as written; the caller resolves it
  std::string tinh;        // province
  std::string chuc_vu;     // position
  std::string dien_thoai;  // "0" + 9 digits, or "" when not given
  std::string serial_cu;   // old serial as pkix::SerialHex() gives it, or ""
  std::string sim_pki;     // one of kSimOperators, or "" for a USB PKI Token
  std::string csr;         // a file path as written, or ""; not opened here
  std::size_t row = 0;     // spreadsheet row number, see FormError
};

// OrganizationRow is one valid, normalised row of Mẫu 02.
struct OrganizationRow {
  std::string ten;         // organisation name
  std::string dia_chi;     // address; line breaks inside the cell folded to one space
  std::string ma_so_thue;  // tax code: 10 digits, or 10 digits "-" 3 digits (a dependent unit)
  std::string ma_qhns;     // budget relation code (mã đơn vị quan hệ ngân sách): 7 digits
  std::string tinh;        // province
  std::string email;       // lower-cased; see EmailDomain() for R9.5
  std::string nguoi_nhan;  // the person who receives the device, or ""
  std::string csr;         // a file path as written, or ""; not opened here
  std::size_t row = 0;     // spreadsheet row number, see FormError
};

// Parsed is the outcome of reading a form. The batch is valid only if `errors` is empty; when
// it is not, `rows` is empty too, so nothing of a rejected batch can be stored by mistake (R9.6).
template <typename Row>
struct Parsed {
  std::vector<Row> rows;
  std::vector<FormError> errors;  // every problem found, ordered by row
  // clean_rows: when `errors` is not empty, the rows that have no error of their own, so a
  // caller can run its further checks on them and report every bad row at once. Never to be
  // stored: the batch as a whole is refused (R9.6).
  std::vector<Row> clean_rows;
};

// Limits bounds the work and memory spent on one file. Every limit is checked before the
// allocation it guards; exceeding one is an error, not a truncation.
struct Limits {
  std::size_t max_bytes = 16 << 20;  // whole input, BOM included
  std::size_t max_rows = 20000;      // data rows, not counting the header row
  std::size_t max_field = 1024;      // bytes of one cell after unquoting
  std::size_t max_columns = 64;      // cells in one row
};

// kSimOperators lists the mobile operators accepted in `sim_pki`, in their normalised spelling.
inline constexpr std::string_view kSimOperators[] = {
    "Viettel", "VinaPhone", "MobiFone", "Vietnamobile", "Gmobile", "Itelecom", "Wintel"};

// ReadCsv splits UTF-8 CSV text (RFC 4180) into rows of cells. It accepts an optional UTF-8
// BOM, CRLF, LF or CR line ends, and cells in double quotes holding commas, doubled quotes and
// line breaks (a CRLF inside quotes is kept as LF). Spaces around a quoted cell are ignored.
// Each line of text is one row, so `rows[i]` is spreadsheet row i + 1: a blank line is a row
// holding one empty cell, and only a line end at the very end of the text adds no row. Rows
// may differ in length. Malformed quoting, invalid UTF-8, and input beyond `limits`
// (max_rows + 1 rows, counting a header) are kInvalidArgument with the text line number in
// the (Vietnamese) message. The result owns its strings; `csv` is only read during the call.
Result<std::vector<std::vector<std::string>>> ReadCsv(std::string_view csv, const Limits& limits);

// ParseMau01 reads Mẫu 01 (individuals). Columns are found by header name, in any order,
// matched without regard to ASCII case or surrounding spaces: ho_ten, ngay_sinh, cccd,
// ngay_cap, noi_cap, email, co_quan, tinh, chuc_vu, dien_thoai, serial_cu, sim_pki, and the
// optional csr. An unknown, duplicate or missing column is reported on row 1 and then no data
// row is checked. Otherwise every bad cell of every row is reported; rows whose cells are all
// empty are skipped. Dates are dd/mm/yyyy (or d/m/yyyy); the person must be at least 18 on
// `today` (the caller's calendar date in Vietnam) and a CCCD may appear on one row only.
Parsed<IndividualRow> ParseMau01(std::string_view csv, std::chrono::year_month_day today,
                                 const Limits& limits = {});

// ParseMau02 reads Mẫu 02 (organisations), as ParseMau01 does, with the columns ten, dia_chi,
// ma_so_thue, ma_qhns, tinh, email, and the optional nguoi_nhan and csr.
Parsed<OrganizationRow> ParseMau02(std::string_view csv, const Limits& limits = {});

// FormatErrors gives one line per error, each ending in "\n":
// "Dòng 3, cột cccd: số CCCD phải gồm đúng 12 chữ số", "Dòng 4: ..." for a whole-row problem,
// "Tệp CSV: ..." for row 0.
std::string FormatErrors(const std::vector<FormError>& errors);

// EmailDomain gives the part of a normalised e-mail address after its '@' ("dongnai.gov.vn"),
// for the caller's R9.5 check against the configured official domains; "" if there is no '@'.
// The view points into `email`.
std::string_view EmailDomain(std::string_view email);

}  // namespace kyso::ra::forms
