#include "kyso/ra/forms/forms.h"

#include <algorithm>
#include <array>
#include <optional>
#include <span>
#include <unordered_map>
#include <utility>

namespace kyso::ra::forms {
namespace {

using std::chrono::sys_days;
using std::chrono::year_month_day;
using Table = std::vector<std::vector<std::string>>;

// ---------------------------------------------------------------------------------------------
// UTF-8 and character classes.

// DecodeUtf8 reads the code point at s[i] and advances i past it. It refuses what RFC 3629
// refuses: overlong forms, surrogates, code points beyond U+10FFFF, truncated sequences.
bool DecodeUtf8(std::string_view s, std::size_t& i, char32_t& cp) {
  const auto b0 = static_cast<unsigned char>(s[i]);
  std::size_t len = 1;
  char32_t min = 0;
  if (b0 < 0x80) {
    cp = b0;
  } else if ((b0 & 0xE0) == 0xC0) {
    len = 2, cp = static_cast<char32_t>(b0 & 0x1F), min = 0x80;
  } else if ((b0 & 0xF0) == 0xE0) {
    len = 3, cp = static_cast<char32_t>(b0 & 0x0F), min = 0x800;
  } else if ((b0 & 0xF8) == 0xF0) {
    len = 4, cp = static_cast<char32_t>(b0 & 0x07), min = 0x10000;
  } else {
    return false;
  }
  if (s.size() - i < len) return false;
  for (std::size_t k = 1; k < len; ++k) {
    const auto b = static_cast<unsigned char>(s[i + k]);
    if ((b & 0xC0) != 0x80) return false;
    cp = (cp << 6) | static_cast<char32_t>(b & 0x3F);
  }
  if (cp < min || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) return false;
  i += len;
  return true;
}

// FirstInvalidUtf8 gives the offset of the first byte that does not start a valid sequence.
std::optional<std::size_t> FirstInvalidUtf8(std::string_view text) {
  std::size_t i = 0;
  char32_t cp = 0;
  while (i < text.size()) {
    const std::size_t at = i;
    if (!DecodeUtf8(text, i, cp)) return at;
  }
  return std::nullopt;
}

bool IsAsciiDigit(char c) { return c >= '0' && c <= '9'; }
bool IsAsciiAlnum(char c) {
  return IsAsciiDigit(c) || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}
char AsciiLower(char c) { return (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c; }
std::string AsciiLower(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = AsciiLower(c);
  return out;
}
bool AllDigits(std::string_view s) { return std::all_of(s.begin(), s.end(), IsAsciiDigit); }

bool IsSpaceLike(char32_t cp) {
  return cp == ' ' || cp == '\t' || cp == '\n' || cp == '\r' || cp == 0xA0;  // NBSP from Word
}
bool IsLineBreakOrTab(char32_t cp) { return cp == '\t' || cp == '\n' || cp == '\r'; }

// IsForbiddenChar: C0 and C1 controls, DEL, and invisible formatting characters that could
// make a name shown to an officer differ from the bytes stored (zero-width characters, bidi
// overrides and isolates, the BOM as a character).
bool IsForbiddenChar(char32_t cp) {
  return cp < 0x20 || (cp >= 0x7F && cp <= 0x9F) || (cp >= 0x200B && cp <= 0x200F) ||
         (cp >= 0x202A && cp <= 0x202E) || (cp >= 0x2060 && cp <= 0x2069) || cp == 0xFEFF;
}

std::string_view TrimAscii(std::string_view s) {
  const auto is_space = [](char c) { return c == ' ' || c == '\t' || c == '\r' || c == '\n'; };
  while (!s.empty() && is_space(s.front())) s.remove_prefix(1);
  while (!s.empty() && is_space(s.back())) s.remove_suffix(1);
  return s;
}

// ---------------------------------------------------------------------------------------------
// CSV (RFC 4180).

struct CsvFailure {
  std::size_t row = 0;   // spreadsheet row being read, 0 for the whole file
  std::size_t line = 0;  // text line, 0 for the whole file
  std::string reason;
};

struct CsvOutcome {
  Table rows;
  std::optional<CsvFailure> failure;
};

constexpr std::string_view kUtf8Bom = "\xEF\xBB\xBF";

// CsvReader is a one-pass state machine over the text. Every append is checked against the
// limits first, so a hostile file costs at most max_bytes of cell text plus bounded overhead.
class CsvReader final {
 public:
  CsvReader(std::string_view text, const Limits& limits) : text_(text), limits_(limits) {}

  CsvOutcome Read() && {
    if (text_.size() > limits_.max_bytes) {
      Fail("tệp CSV lớn hơn giới hạn " + std::to_string(limits_.max_bytes) + " byte", 0);
      return Finish();
    }
    if (text_.starts_with(kUtf8Bom)) text_.remove_prefix(kUtf8Bom.size());
    while (pos_ < text_.size() && ReadRow()) {
    }
    return Finish();
  }

 private:
  enum class End { kComma, kLine, kText };

  CsvOutcome Finish() { return {std::move(rows_), std::move(failure_)}; }

  bool Fail(std::string reason, std::size_t line) {
    failure_ = CsvFailure{line == 0 ? 0 : rows_.size() + 1, line, std::move(reason)};
    return false;
  }

  bool ReadRow() {
    if (rows_.size() > limits_.max_rows) {  // a header and max_rows data rows already
      return Fail("tệp có nhiều hơn " + std::to_string(limits_.max_rows) + " dòng dữ liệu", line_);
    }
    std::vector<std::string> row;
    End end = End::kComma;
    while (end == End::kComma) {
      if (row.size() >= limits_.max_columns) {
        return Fail("dòng có nhiều hơn " + std::to_string(limits_.max_columns) + " ô", line_);
      }
      std::string cell;
      const std::size_t start_line = line_;
      if (!ReadCell(cell, end) || !CheckUtf8(cell, start_line)) return false;
      row.push_back(std::move(cell));
    }
    rows_.push_back(std::move(row));
    return true;
  }

  // CheckUtf8 validates a whole cell. Separators are ASCII, so checking every cell checks
  // the whole text, and a bad byte is reported on its spreadsheet row.
  bool CheckUtf8(std::string_view cell, std::size_t start_line) {
    const std::optional<std::size_t> bad = FirstInvalidUtf8(cell);
    if (!bad) return true;
    const std::string_view before = cell.substr(0, *bad);
    const auto breaks =
        std::count_if(before.begin(), before.end(), [](char c) { return c == '\n' || c == '\r'; });
    return Fail("văn bản không phải UTF-8 hợp lệ", start_line + static_cast<std::size_t>(breaks));
  }

  // ReadCell reads one cell and the separator after it. Spaces before an opening quote are
  // dropped; otherwise a cell is unquoted and keeps its spaces (the forms trim them).
  bool ReadCell(std::string& cell, End& end) {
    std::size_t i = pos_;
    while (i < text_.size() && (text_[i] == ' ' || text_[i] == '\t')) ++i;
    if (i < text_.size() && text_[i] == '"') {
      pos_ = i + 1;
      return ReadQuoted(cell, end);
    }
    return ReadUnquoted(cell, end);
  }

  bool ReadUnquoted(std::string& cell, End& end) {
    while (pos_ < text_.size()) {
      const char c = text_[pos_];
      if (c == ',') {
        ++pos_;
        end = End::kComma;
        return true;
      }
      if (c == '\r' || c == '\n') {
        ConsumeLineEnd();
        end = End::kLine;
        return true;
      }
      if (c == '"') {
        return Fail("dấu ngoặc kép nằm giữa một ô không bắt đầu bằng dấu ngoặc kép", line_);
      }
      if (!Append(cell, c)) return false;
      ++pos_;
    }
    end = End::kText;
    return true;
  }

  // ReadQuoted reads after an opening quote: "" is one quote, CRLF becomes LF, and the
  // closing quote must be followed (after optional spaces) by a comma, a line end or the end.
  bool ReadQuoted(std::string& cell, End& end) {
    const std::size_t open_line = line_;
    for (;;) {
      if (pos_ >= text_.size()) {
        return Fail("dấu ngoặc kép mở không được đóng", open_line);
      }
      const char c = text_[pos_];
      if (c == '"' && pos_ + 1 < text_.size() && text_[pos_ + 1] == '"') {
        if (!Append(cell, '"')) return false;
        pos_ += 2;
      } else if (c == '"') {
        ++pos_;
        return ReadAfterQuote(end);
      } else if (c == '\r' || c == '\n') {
        ConsumeLineEnd();
        if (!Append(cell, (c == '\r' && text_[pos_ - 1] == '\r') ? '\r' : '\n')) return false;
      } else {
        if (!Append(cell, c)) return false;
        ++pos_;
      }
    }
  }

  bool ReadAfterQuote(End& end) {
    while (pos_ < text_.size() && (text_[pos_] == ' ' || text_[pos_] == '\t')) ++pos_;
    if (pos_ >= text_.size()) {
      end = End::kText;
      return true;
    }
    if (text_[pos_] == ',') {
      ++pos_;
      end = End::kComma;
      return true;
    }
    if (text_[pos_] == '\r' || text_[pos_] == '\n') {
      ConsumeLineEnd();
      end = End::kLine;
      return true;
    }
    return Fail("sau dấu ngoặc kép đóng chỉ được là dấu phẩy hoặc xuống dòng", line_);
  }

  // ConsumeLineEnd steps over CRLF, LF or a lone CR at pos_.
  void ConsumeLineEnd() {
    if (text_[pos_] == '\r' && pos_ + 1 < text_.size() && text_[pos_ + 1] == '\n') ++pos_;
    ++pos_;
    ++line_;
  }

  bool Append(std::string& cell, char c) {
    if (cell.size() >= limits_.max_field) {
      return Fail("ô dài quá " + std::to_string(limits_.max_field) + " byte", line_);
    }
    cell.push_back(c);
    return true;
  }

  std::string_view text_;
  const Limits& limits_;
  std::size_t pos_ = 0;
  std::size_t line_ = 1;
  Table rows_;
  std::optional<CsvFailure> failure_;
};

// ---------------------------------------------------------------------------------------------
// Cell normalisers. Each gives the normalised value or an InvalidArgument whose message is the
// Vietnamese reason for a FormError. Messages never quote the cell: it may be personal data.

struct TextRule {
  std::string_view label;  // Vietnamese name of the field, starts the messages
  std::size_t max_chars;   // in code points, after normalisation
  bool required;
  bool allow_line_breaks;  // a line break or tab inside the cell folds to one space
};

Status TextError(const TextRule& rule, std::string_view what) {
  return InvalidArgumentError(std::string(rule.label) + " " + std::string(what));
}

// NormalizeText trims the cell, folds each run of spaces (and, if allowed, line breaks and
// tabs) into one space, and refuses control and invisible formatting characters.
Result<std::string> NormalizeText(std::string_view cell, const TextRule& rule) {
  std::string out;
  std::size_t num_chars = 0;
  bool pending_space = false;
  for (std::size_t i = 0; i < cell.size();) {
    const std::size_t start = i;
    char32_t cp = 0;
    if (!DecodeUtf8(cell, i, cp)) return TextError(rule, "không phải văn bản UTF-8 hợp lệ");
    if (IsLineBreakOrTab(cp) && !rule.allow_line_breaks) {
      return TextError(rule, "không được chứa ký tự xuống dòng hoặc tab");
    }
    if (IsSpaceLike(cp)) {
      pending_space = !out.empty();
      continue;
    }
    if (IsForbiddenChar(cp)) {
      return TextError(rule, "chứa ký tự điều khiển hoặc ký tự ẩn không được phép");
    }
    if (pending_space) {
      out.push_back(' ');
      ++num_chars;
      pending_space = false;
    }
    out.append(cell.substr(start, i - start));
    ++num_chars;
  }
  if (rule.required && out.empty()) return TextError(rule, "không được để trống");
  if (num_chars > rule.max_chars) {
    return TextError(rule, "dài quá " + std::to_string(rule.max_chars) + " ký tự");
  }
  return out;
}

constexpr std::string_view kLeadingZeroHint =
    " (có thể bảng tính đã bỏ số 0 ở đầu; hãy định dạng cột là Văn bản)";

Result<std::string> NormalizeCccd(std::string_view cell) {
  const std::string_view v = TrimAscii(cell);
  if (v.empty()) return InvalidArgumentError("số CCCD không được để trống");
  if (v.size() == 12 && AllDigits(v)) return std::string(v);
  std::string reason = "số CCCD phải gồm đúng 12 chữ số";
  if (v.size() == 11 && AllDigits(v)) reason += kLeadingZeroHint;
  return InvalidArgumentError(std::move(reason));
}

// ParseDate reads dd/mm/yyyy or d/m/yyyy, a real calendar date from 1900 on.
Result<year_month_day> ParseDate(std::string_view cell, std::string_view label) {
  const std::string_view v = TrimAscii(cell);
  const std::string name(label);
  if (v.empty()) return InvalidArgumentError(name + " không được để trống");
  const std::size_t s1 = v.find('/');
  const std::size_t s2 = s1 == std::string_view::npos ? s1 : v.find('/', s1 + 1);
  const auto is_number = [](std::string_view p, std::size_t min, std::size_t max) {
    return p.size() >= min && p.size() <= max && AllDigits(p);
  };
  if (s2 == std::string_view::npos || !is_number(v.substr(0, s1), 1, 2) ||
      !is_number(v.substr(s1 + 1, s2 - s1 - 1), 1, 2) || !is_number(v.substr(s2 + 1), 4, 4)) {
    return InvalidArgumentError(name + " phải có dạng dd/mm/yyyy, ví dụ 05/09/1990");
  }
  const auto number = [](std::string_view p) {
    unsigned n = 0;
    for (char c : p) n = n * 10 + static_cast<unsigned>(c - '0');
    return n;
  };
  const year_month_day date{std::chrono::year{static_cast<int>(number(v.substr(s2 + 1)))},
                            std::chrono::month{number(v.substr(s1 + 1, s2 - s1 - 1))},
                            std::chrono::day{number(v.substr(0, s1))}};
  if (!date.ok()) return InvalidArgumentError(name + " không phải là một ngày có thật");
  if (date.year() < std::chrono::year{1900}) {
    return InvalidArgumentError(name + " phải từ năm 1900 trở đi");
  }
  return date;
}

// EighteenthBirthday: someone born on 29 February comes of age on 1 March in a common year.
sys_days EighteenthBirthday(year_month_day birth) {
  const year_month_day at = birth + std::chrono::years{18};
  if (at.ok()) return sys_days{at};
  return sys_days{at.year() / at.month() / std::chrono::last} + std::chrono::days{1};
}

Result<year_month_day> CheckBirth(year_month_day birth, year_month_day today) {
  if (sys_days{birth} >= sys_days{today}) {
    return InvalidArgumentError("ngày sinh phải là một ngày trong quá khứ");
  }
  if (EighteenthBirthday(birth) > sys_days{today}) {
    return InvalidArgumentError("người được cấp chứng thư chưa đủ 18 tuổi");
  }
  return birth;
}

Result<year_month_day> CheckIssued(year_month_day issued, const Result<year_month_day>& birth,
                                   year_month_day today) {
  if (sys_days{issued} > sys_days{today}) {
    return InvalidArgumentError("ngày cấp không được sau ngày hôm nay");
  }
  if (birth.ok() && sys_days{issued} < sys_days{*birth}) {
    return InvalidArgumentError("ngày cấp không được trước ngày sinh");
  }
  return issued;
}

bool IsEmailLocalChar(char c) {
  return IsAsciiAlnum(c) ||
         std::string_view("!#$%&'*+/=?^_`{|}~-.").find(c) != std::string_view::npos;
}

// IsDomainName: at least two labels of letters, digits and inner hyphens (RFC 1035 2.3.1,
// lower-cased already), at most 253 octets, and a top-level label that is not all digits.
bool IsDomainName(std::string_view d) {
  if (d.empty() || d.size() > 253) return false;
  std::size_t num_labels = 0;
  std::string_view label;
  while (!d.empty()) {
    const std::size_t dot = d.find('.');
    label = d.substr(0, dot);
    d = dot == std::string_view::npos ? std::string_view() : d.substr(dot + 1);
    if (dot != std::string_view::npos && d.empty()) return false;  // trailing dot
    if (label.empty() || label.size() > 63 || label.front() == '-' || label.back() == '-') {
      return false;
    }
    for (char c : label) {
      if (!IsAsciiAlnum(c) && c != '-') return false;
    }
    ++num_labels;
  }
  return num_labels >= 2 && !AllDigits(label);
}

bool IsEmailLocalPart(std::string_view l) {
  if (l.empty() || l.size() > 64 || l.front() == '.' || l.back() == '.') return false;
  if (l.find("..") != std::string_view::npos) return false;
  return std::all_of(l.begin(), l.end(), IsEmailLocalChar);
}

Result<std::string> NormalizeEmail(std::string_view cell) {
  const std::string_view v = TrimAscii(cell);
  if (v.empty()) return InvalidArgumentError("địa chỉ thư điện tử không được để trống");
  if (!std::all_of(v.begin(), v.end(), [](char c) { return c > ' ' && c < 0x7F; })) {
    return InvalidArgumentError(
        "địa chỉ thư điện tử chỉ được gồm chữ cái không dấu, chữ số và ký hiệu, không có "
        "khoảng trắng");
  }
  const std::string email = AsciiLower(v);
  const std::size_t at = email.find('@');
  if (email.size() > 254 || at == std::string::npos ||
      email.find('@', at + 1) != std::string::npos ||
      !IsEmailLocalPart(std::string_view(email).substr(0, at)) ||
      !IsDomainName(std::string_view(email).substr(at + 1))) {
    return InvalidArgumentError(
        "địa chỉ thư điện tử không đúng dạng, ví dụ đúng: nguyenvana@dongnai.gov.vn");
  }
  return email;
}

// NormalizePhone gives a Vietnamese mobile number as "0" + 9 digits. Since the 2018
// renumbering, mobile numbers are 0 + 9 digits with 3, 5, 7, 8 or 9 after the 0; landlines
// are 11 digits starting 02.
Result<std::string> NormalizePhone(std::string_view cell) {
  std::string digits;
  for (char c : TrimAscii(cell)) {
    if (c != ' ' && c != '.' && c != '-') digits.push_back(c);
  }
  if (digits.starts_with("+84") && digits.size() == 12 && AllDigits(digits.substr(3))) {
    digits = "0" + digits.substr(3);
  }
  if (digits.size() != 10 || digits[0] != '0' || !AllDigits(digits)) {
    std::string reason =
        "số điện thoại di động phải gồm 10 chữ số bắt đầu bằng 0 (ví dụ 0912345678) hoặc +84 "
        "và 9 chữ số";
    if (digits.size() == 9 && AllDigits(digits) && digits[0] != '0') reason += kLeadingZeroHint;
    return InvalidArgumentError(std::move(reason));
  }
  if (std::string_view("35789").find(digits[1]) == std::string_view::npos) {
    return InvalidArgumentError("số điện thoại di động phải bắt đầu bằng 03, 05, 07, 08 hoặc 09");
  }
  return digits;
}

// NormalizeSerial gives the old serial as pkix::SerialHex() prints it: lowercase hex of the
// minimal big-endian octets. RFC 5280 4.1.2.2: positive, at most 20 octets.
Result<std::string> NormalizeSerial(std::string_view cell) {
  std::string hex;
  for (char c : TrimAscii(cell)) {
    if (c == ':') continue;
    if (!IsAsciiDigit(c) && !(AsciiLower(c) >= 'a' && AsciiLower(c) <= 'f')) {
      return InvalidArgumentError(
          "số serial của chứng thư cũ phải là số thập lục phân (0-9, a-f), có thể có dấu hai chấm");
    }
    hex.push_back(AsciiLower(c));
  }
  if (hex.size() % 2 == 1) hex.insert(hex.begin(), '0');
  std::size_t zeros = 0;
  while (zeros < hex.size() && hex.compare(zeros, 2, "00") == 0) zeros += 2;
  hex.erase(0, zeros);
  if (hex.empty()) return InvalidArgumentError("số serial của chứng thư cũ không được bằng 0");
  if (hex.size() > 40) return InvalidArgumentError("số serial của chứng thư cũ dài quá 20 byte");
  return hex;
}

Result<std::string> NormalizeSimOperator(std::string_view cell) {
  std::string key;
  for (char c : TrimAscii(cell)) {
    if (c != ' ' && c != '-') key.push_back(AsciiLower(c));
  }
  for (std::string_view name : kSimOperators) {
    if (key == AsciiLower(name)) return std::string(name);
  }
  return InvalidArgumentError(
      "nhà mạng SIM PKI phải là một trong: Viettel, VinaPhone, MobiFone, Vietnamobile, "
      "Gmobile, Itelecom, Wintel (để trống nếu dùng USB Token)");
}

Result<std::string> NormalizeTaxCode(std::string_view cell) {
  const std::string_view v = TrimAscii(cell);
  if (v.empty()) return InvalidArgumentError("mã số thuế không được để trống");
  const bool main_unit = v.size() == 10 && AllDigits(v);
  const bool dependent_unit =
      v.size() == 14 && v[10] == '-' && AllDigits(v.substr(0, 10)) && AllDigits(v.substr(11));
  if (main_unit || dependent_unit) return std::string(v);
  std::string reason =
      "mã số thuế phải gồm 10 chữ số, hoặc 10 chữ số, dấu gạch ngang và 3 chữ số (đơn vị phụ "
      "thuộc)";
  if (v.size() == 9 && AllDigits(v)) reason += kLeadingZeroHint;
  return InvalidArgumentError(std::move(reason));
}

Result<std::string> NormalizeBudgetCode(std::string_view cell) {
  const std::string_view v = TrimAscii(cell);
  if (v.empty()) return InvalidArgumentError("mã đơn vị quan hệ ngân sách không được để trống");
  if (v.size() == 7 && AllDigits(v)) return std::string(v);
  return InvalidArgumentError("mã đơn vị quan hệ ngân sách phải gồm đúng 7 chữ số");
}

// ---------------------------------------------------------------------------------------------
// Forms: header resolution and row checking shared by Mẫu 01 and Mẫu 02.

struct FormSpec {
  std::string_view form_name;  // "Mẫu 01", in messages
  std::span<const std::string_view> required;
  std::span<const std::string_view> optional;
};

constexpr std::string_view kMau01Required[] = {"ho_ten",  "ngay_sinh",  "cccd",      "ngay_cap",
                                               "noi_cap", "email",      "co_quan",   "tinh",
                                               "chuc_vu", "dien_thoai", "serial_cu", "sim_pki"};
constexpr std::string_view kMau01Optional[] = {"csr"};
constexpr std::string_view kMau02Required[] = {"ten",     "dia_chi", "ma_so_thue",
                                               "ma_qhns", "tinh",    "email"};
constexpr std::string_view kMau02Optional[] = {"nguoi_nhan", "csr"};

constexpr FormSpec kMau01{"Mẫu 01", kMau01Required, kMau01Optional};
constexpr FormSpec kMau02{"Mẫu 02", kMau02Required, kMau02Optional};

constexpr TextRule kHoTen{"họ và tên", 64, true, false};
constexpr TextRule kNoiCap{"nơi cấp", 128, true, true};
constexpr TextRule kCoQuan{"cơ quan", 256, true, true};
constexpr TextRule kTinh{"tỉnh, thành phố", 64, true, true};
constexpr TextRule kChucVu{"chức vụ", 128, true, true};
constexpr TextRule kCsr{"đường dẫn tệp CSR", 1024, false, false};
constexpr TextRule kTen{"tên cơ quan, tổ chức", 64, true, true};
constexpr TextRule kDiaChi{"địa chỉ", 256, true, true};
constexpr TextRule kNguoiNhan{"họ và tên người nhận thiết bị", 64, false, false};

// DisplayName makes a header cell safe to put in a one-line message: controls become '?',
// and it is cut at 64 bytes on a character boundary.
std::string DisplayName(std::string_view name) {
  std::string out;
  for (std::size_t i = 0; i < name.size() && out.size() < 64;) {
    const std::size_t start = i;
    char32_t cp = 0;
    if (!DecodeUtf8(name, i, cp)) {
      ++i;
      out.push_back('?');
    } else if (IsForbiddenChar(cp)) {
      out.push_back('?');
    } else {
      out.append(name.substr(start, i - start));
    }
  }
  return out;
}

std::string ColumnList(const FormSpec& spec) {
  std::string out;
  for (auto list : {spec.required, spec.optional}) {
    for (std::string_view name : list) out += (out.empty() ? "" : ", ") + std::string(name);
  }
  return out;
}

// Columns maps each column of the form to its index in the file's rows.
struct Columns {
  std::vector<std::pair<std::string_view, std::size_t>> at;
  std::size_t width = 0;  // number of cells in the header row
};

// KnownColumn gives the form's own spelling of `name` (a static string), or "" if unknown.
std::string_view KnownColumn(const FormSpec& spec, std::string_view name) {
  for (auto list : {spec.required, spec.optional}) {
    for (std::string_view known : list) {
      if (known == name) return known;
    }
  }
  return {};
}

// ResolveHeader reads row 1. Any problem is reported and stops the form: with a column
// unknown, doubled or missing, the cells below cannot be trusted to mean what they say.
std::optional<Columns> ResolveHeader(const std::vector<std::string>& header, const FormSpec& spec,
                                     std::vector<FormError>& errors) {
  const std::size_t num_errors = errors.size();
  Columns columns{{}, header.size()};
  for (std::size_t i = 0; i < header.size(); ++i) {
    const std::string_view written = TrimAscii(header[i]);
    const std::string_view canonical = KnownColumn(spec, AsciiLower(written));
    if (written.empty()) {
      errors.push_back(
          {1, "", "cột thứ " + std::to_string(i + 1) + " của dòng tiêu đề không có tên"});
    } else if (canonical.empty()) {
      errors.push_back({1, DisplayName(written),
                        "cột không có trong " + std::string(spec.form_name) +
                            "; các cột hợp lệ: " + ColumnList(spec)});
    } else if (std::any_of(columns.at.begin(), columns.at.end(),
                           [&](const auto& c) { return c.first == canonical; })) {
      errors.push_back({1, std::string(canonical), "tên cột bị lặp lại trong dòng tiêu đề"});
    } else {
      columns.at.emplace_back(canonical, i);
    }
  }
  for (std::string_view name : spec.required) {
    if (std::none_of(columns.at.begin(), columns.at.end(),
                     [&](const auto& c) { return c.first == name; })) {
      errors.push_back({1, std::string(name), "thiếu cột bắt buộc"});
    }
  }
  if (errors.size() != num_errors) return std::nullopt;
  return columns;
}

// RowCells gives a data row's cells by column name and collects that row's errors.
class RowCells final {
 public:
  RowCells(const Columns& columns, const std::vector<std::string>& cells, std::size_t row,
           std::vector<FormError>& errors)
      : columns_(columns), cells_(cells), row_(row), errors_(errors) {}

  std::size_t row() const { return row_; }

  // Get gives the raw cell, or "" for an optional column the file does not have.
  std::string_view Get(std::string_view column) const {
    for (const auto& [name, index] : columns_.at) {
      if (name == column) return cells_[index];
    }
    return {};
  }

  void Fail(std::string_view column, std::string reason) {
    errors_.push_back({row_, std::string(column), std::move(reason)});
  }

  // Take gives the value of `r`, or records its reason against `column` and gives T{}.
  template <typename T>
  T Take(std::string_view column, Result<T> r) {
    if (r.ok()) return std::move(r).value();
    Fail(column, r.status().message());
    return T{};
  }

  std::string Text(std::string_view column, const TextRule& rule) {
    return Take(column, NormalizeText(Get(column), rule));
  }

 private:
  const Columns& columns_;
  const std::vector<std::string>& cells_;
  std::size_t row_;
  std::vector<FormError>& errors_;
};

bool IsBlankRow(const std::vector<std::string>& cells) {
  return std::all_of(cells.begin(), cells.end(),
                     [](const std::string& c) { return TrimAscii(c).empty(); });
}

// ReadTable runs the CSV reader and turns its failure into a FormError.
std::optional<Table> ReadTable(std::string_view csv, const Limits& limits,
                               std::vector<FormError>& errors) {
  CsvOutcome outcome = CsvReader(csv, limits).Read();
  if (outcome.failure) {
    CsvFailure& f = *outcome.failure;
    if (f.line != 0 && f.line != f.row)
      f.reason += " (dòng văn bản " + std::to_string(f.line) + ")";
    errors.push_back({f.row, "", std::move(f.reason)});
    return std::nullopt;
  }
  if (std::all_of(outcome.rows.begin(), outcome.rows.end(), IsBlankRow)) {
    errors.push_back({0, "", "tệp CSV trống"});
    return std::nullopt;
  }
  if (IsBlankRow(outcome.rows[0])) {
    errors.push_back({1, "", "dòng đầu tiên phải là dòng tiêu đề (tên các cột)"});
    return std::nullopt;
  }
  return std::move(outcome.rows);
}

// ParseForm reads the header and hands each non-blank data row to `parse_row`.
template <typename Row, typename ParseRow>
Parsed<Row> ParseForm(std::string_view csv, const Limits& limits, const FormSpec& spec,
                      ParseRow parse_row) {
  Parsed<Row> out;
  std::optional<Table> table = ReadTable(csv, limits, out.errors);
  if (!table) return out;
  std::optional<Columns> columns = ResolveHeader((*table)[0], spec, out.errors);
  if (!columns) return out;
  for (std::size_t i = 1; i < table->size(); ++i) {
    const std::vector<std::string>& cells = (*table)[i];
    if (IsBlankRow(cells)) continue;
    if (cells.size() != columns->width) {
      out.errors.push_back({i + 1, "",
                            "dòng có " + std::to_string(cells.size()) +
                                " ô nhưng dòng tiêu đề có " + std::to_string(columns->width) +
                                " cột"});
      continue;
    }
    RowCells row(*columns, cells, i + 1, out.errors);
    out.rows.push_back(parse_row(row));
  }
  if (out.rows.empty() && out.errors.empty()) {
    out.errors.push_back({0, "", "tệp không có dòng dữ liệu nào dưới dòng tiêu đề"});
  }
  return out;
}

template <typename Row>
Parsed<Row> Finish(Parsed<Row> out) {
  std::stable_sort(out.errors.begin(), out.errors.end(),
                   [](const FormError& a, const FormError& b) { return a.row < b.row; });
  if (!out.errors.empty()) {
    std::vector<std::size_t> bad;
    for (const FormError& e : out.errors) bad.push_back(e.row);
    for (Row& r : out.rows) {
      if (!std::binary_search(bad.begin(), bad.end(), r.row)) out.clean_rows.push_back(std::move(r));
    }
    out.rows.clear();
  }
  return out;
}

// ---------------------------------------------------------------------------------------------
// Mẫu 01 and Mẫu 02 rows.

void ParseIdentity(RowCells& c, year_month_day today, IndividualRow& r) {
  r.ho_ten = c.Text("ho_ten", kHoTen);
  Result<year_month_day> birth = ParseDate(c.Get("ngay_sinh"), "ngày sinh");
  if (birth.ok()) birth = CheckBirth(*birth, today);
  r.ngay_sinh = c.Take("ngay_sinh", birth);
  r.cccd = c.Take("cccd", NormalizeCccd(c.Get("cccd")));
  Result<year_month_day> issued = ParseDate(c.Get("ngay_cap"), "ngày cấp");
  if (issued.ok()) issued = CheckIssued(*issued, birth, today);
  r.ngay_cap = c.Take("ngay_cap", issued);
  r.noi_cap = c.Text("noi_cap", kNoiCap);
}

void ParseContact(RowCells& c, IndividualRow& r) {
  r.email = c.Take("email", NormalizeEmail(c.Get("email")));
  r.co_quan = c.Text("co_quan", kCoQuan);
  r.tinh = c.Text("tinh", kTinh);
  r.chuc_vu = c.Text("chuc_vu", kChucVu);
  const bool has_sim = !TrimAscii(c.Get("sim_pki")).empty();
  if (!TrimAscii(c.Get("dien_thoai")).empty()) {
    r.dien_thoai = c.Take("dien_thoai", NormalizePhone(c.Get("dien_thoai")));
  } else if (has_sim) {
    c.Fail("dien_thoai", "số điện thoại di động là bắt buộc khi dùng SIM PKI (số của SIM)");
  }
  if (!TrimAscii(c.Get("serial_cu")).empty()) {
    r.serial_cu = c.Take("serial_cu", NormalizeSerial(c.Get("serial_cu")));
  }
  if (has_sim) r.sim_pki = c.Take("sim_pki", NormalizeSimOperator(c.Get("sim_pki")));
  r.csr = c.Text("csr", kCsr);
}

IndividualRow ParseIndividual(RowCells& c, year_month_day today) {
  IndividualRow r{};
  r.row = c.row();
  ParseIdentity(c, today, r);
  ParseContact(c, r);
  return r;
}

OrganizationRow ParseOrganization(RowCells& c) {
  OrganizationRow r{};
  r.row = c.row();
  r.ten = c.Text("ten", kTen);
  r.dia_chi = c.Text("dia_chi", kDiaChi);
  r.ma_so_thue = c.Take("ma_so_thue", NormalizeTaxCode(c.Get("ma_so_thue")));
  r.ma_qhns = c.Take("ma_qhns", NormalizeBudgetCode(c.Get("ma_qhns")));
  r.tinh = c.Text("tinh", kTinh);
  r.email = c.Take("email", NormalizeEmail(c.Get("email")));
  r.nguoi_nhan = c.Text("nguoi_nhan", kNguoiNhan);
  r.csr = c.Text("csr", kCsr);
  return r;
}

// ReportDuplicateCccd: one person, one request per batch. The first row of a group names the
// second; every later row names the first, so the report stays linear in the rows.
void ReportDuplicateCccd(const std::vector<IndividualRow>& rows, std::vector<FormError>& errors) {
  std::unordered_map<std::string_view, std::size_t> first;  // cccd -> index into rows
  std::vector<bool> reported(rows.size(), false);
  for (std::size_t i = 0; i < rows.size(); ++i) {
    if (rows[i].cccd.empty()) continue;  // invalid, already reported
    const auto [it, inserted] = first.emplace(rows[i].cccd, i);
    if (inserted) continue;
    const IndividualRow& original = rows[it->second];
    if (!reported[it->second]) {
      errors.push_back(
          {original.row, "cccd", "số CCCD trùng với dòng " + std::to_string(rows[i].row)});
      reported[it->second] = true;
    }
    errors.push_back(
        {rows[i].row, "cccd", "số CCCD trùng với dòng " + std::to_string(original.row)});
  }
}

}  // namespace

Result<std::vector<std::vector<std::string>>> ReadCsv(std::string_view csv, const Limits& limits) {
  CsvOutcome outcome = CsvReader(csv, limits).Read();
  if (!outcome.failure) return std::move(outcome.rows);
  const CsvFailure& f = *outcome.failure;
  if (f.line == 0) return InvalidArgumentError(f.reason);
  return InvalidArgumentError("dòng " + std::to_string(f.line) + ": " + f.reason);
}

Parsed<IndividualRow> ParseMau01(std::string_view csv, year_month_day today, const Limits& limits) {
  if (!today.ok()) {
    return {{}, {{0, "", "ngày đối chiếu (hôm nay) không hợp lệ; đây là lỗi của hệ thống"}}};
  }
  Parsed<IndividualRow> out = ParseForm<IndividualRow>(
      csv, limits, kMau01, [today](RowCells& c) { return ParseIndividual(c, today); });
  ReportDuplicateCccd(out.rows, out.errors);
  return Finish(std::move(out));
}

Parsed<OrganizationRow> ParseMau02(std::string_view csv, const Limits& limits) {
  return Finish(ParseForm<OrganizationRow>(csv, limits, kMau02, ParseOrganization));
}

std::string FormatErrors(const std::vector<FormError>& errors) {
  std::string out;
  for (const FormError& e : errors) {
    if (e.row == 0) {
      out += "Tệp CSV";
    } else {
      out += "Dòng " + std::to_string(e.row);
      if (!e.column.empty()) out += ", cột " + e.column;
    }
    out += ": " + e.reason + "\n";
  }
  return out;
}

std::string_view EmailDomain(std::string_view email) {
  const std::size_t at = email.rfind('@');
  return at == std::string_view::npos ? std::string_view() : email.substr(at + 1);
}

}  // namespace kyso::ra::forms
