#include "kyso/ra/forms/forms.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <string>
#include <utility>
#include <vector>

namespace kyso::ra::forms {
namespace {

using namespace std::chrono_literals;
using std::chrono::year_month_day;
using ::testing::ElementsAre;
using ::testing::Field;
using ::testing::IsEmpty;
using ::testing::Not;

constexpr year_month_day kToday = 2026y / std::chrono::March / 15d;

constexpr std::string_view kHeader01 =
    "ho_ten,ngay_sinh,cccd,ngay_cap,noi_cap,email,co_quan,tinh,chuc_vu,dien_thoai,serial_cu,"
    "sim_pki\n";
constexpr std::string_view kHeader02 = "ten,dia_chi,ma_so_thue,ma_qhns,tinh,email\n";

// Person holds the cells of one Mẫu 01 row, in kHeader01's order.
struct Person {
  std::string ho_ten = "Nguyễn Thị Hồng Nhung";
  std::string ngay_sinh = "12/04/1988";
  std::string cccd = "075188001234";
  std::string ngay_cap = "20/07/2021";
  std::string noi_cap = "Cục Cảnh sát quản lý hành chính về trật tự xã hội";
  std::string email = "nthnhung@dongnai.gov.vn";
  std::string co_quan = "Sở Khoa học và Công nghệ";
  std::string tinh = "Đồng Nai";
  std::string chuc_vu = "Chuyên viên";
  std::string dien_thoai = "0912345678";
  std::string serial_cu;
  std::string sim_pki;
};

// Quote applies RFC 4180 quoting only where a cell needs it.
std::string Quote(const std::string& cell) {
  if (cell.find_first_of(",\"\r\n") == std::string::npos) return cell;
  std::string out = "\"";
  for (char c : cell) {
    out += c;
    if (c == '"') out += '"';
  }
  return out + "\"";
}

std::string Line(const std::vector<std::string>& cells) {
  std::string out;
  for (std::size_t i = 0; i < cells.size(); ++i) out += (i ? "," : "") + Quote(cells[i]);
  return out + "\n";
}

std::string PersonLine(const Person& p) {
  return Line({p.ho_ten, p.ngay_sinh, p.cccd, p.ngay_cap, p.noi_cap, p.email, p.co_quan, p.tinh,
               p.chuc_vu, p.dien_thoai, p.serial_cu, p.sim_pki});
}

std::string Csv01(const std::vector<Person>& people) {
  std::string out(kHeader01);
  for (const Person& p : people) out += PersonLine(p);
  return out;
}

Person Minh() {
  Person p;
  p.ho_ten = "Trần Văn Minh";
  p.ngay_sinh = "3/9/1979";
  p.cccd = "075079004321";
  p.ngay_cap = "5/1/2022";
  p.email = "TVMinh@DongNai.Gov.VN";
  p.co_quan = "Sở Tài chính";
  p.chuc_vu = "Phó Giám đốc";
  p.dien_thoai = "+84 983 456 789";
  p.serial_cu = "54:01:2A:7F:00:00:00:00:00:01";
  p.sim_pki = "viettel";
  return p;
}

// Organization holds the cells of one Mẫu 02 row, in kHeader02's order.
struct Organization {
  std::string ten = "Trung tâm Chuyển đổi số";
  std::string dia_chi = "Số 2 Nguyễn Văn Trị, phường Trấn Biên, tỉnh Đồng Nai";
  std::string ma_so_thue = "3601234567";
  std::string ma_qhns = "1123456";
  std::string tinh = "Đồng Nai";
  std::string email = "ttcds@dongnai.gov.vn";
};

std::string Csv02(const std::vector<Organization>& orgs) {
  std::string out(kHeader02);
  for (const Organization& o : orgs) {
    out += Line({o.ten, o.dia_chi, o.ma_so_thue, o.ma_qhns, o.tinh, o.email});
  }
  return out;
}

// Where gives (row, column) of each error, the part of a FormError tests assert on.
std::vector<std::pair<std::size_t, std::string>> Where(const std::vector<FormError>& errors) {
  std::vector<std::pair<std::size_t, std::string>> out;
  for (const FormError& e : errors) out.emplace_back(e.row, e.column);
  return out;
}
using W = std::pair<std::size_t, std::string>;

// ParseOne01 parses a file with one person and gives that row, failing the test on errors.
IndividualRow ParseOne01(const Person& p) {
  Parsed<IndividualRow> parsed = ParseMau01(Csv01({p}), kToday);
  EXPECT_THAT(parsed.errors, IsEmpty()) << FormatErrors(parsed.errors);
  if (parsed.rows.size() != 1) return {};
  return parsed.rows[0];
}

// ErrorsOf01 parses a file with one person and gives where its errors are.
std::vector<W> ErrorsOf01(const Person& p) {
  Parsed<IndividualRow> parsed = ParseMau01(Csv01({p}), kToday);
  EXPECT_EQ(parsed.rows.empty(), !parsed.errors.empty());
  return Where(parsed.errors);
}

// --- Mẫu 01 -------------------------------------------------------------------------------

TEST(Mau01Test, R9_6_ValidRowsParsed) {
  Parsed<IndividualRow> parsed = ParseMau01(Csv01({Person(), Minh()}), kToday);
  ASSERT_THAT(parsed.errors, IsEmpty()) << FormatErrors(parsed.errors);
  ASSERT_EQ(parsed.rows.size(), 2u);

  const IndividualRow& nhung = parsed.rows[0];
  EXPECT_EQ(nhung.row, 2u);
  EXPECT_EQ(nhung.ho_ten, "Nguyễn Thị Hồng Nhung");
  EXPECT_EQ(nhung.ngay_sinh, 1988y / std::chrono::April / 12d);
  EXPECT_EQ(nhung.cccd, "075188001234");
  EXPECT_EQ(nhung.ngay_cap, 2021y / std::chrono::July / 20d);
  EXPECT_EQ(nhung.noi_cap, "Cục Cảnh sát quản lý hành chính về trật tự xã hội");
  EXPECT_EQ(nhung.email, "nthnhung@dongnai.gov.vn");
  EXPECT_EQ(nhung.co_quan, "Sở Khoa học và Công nghệ");
  EXPECT_EQ(nhung.tinh, "Đồng Nai");
  EXPECT_EQ(nhung.chuc_vu, "Chuyên viên");
  EXPECT_EQ(nhung.dien_thoai, "0912345678");
  EXPECT_EQ(nhung.serial_cu, "");
  EXPECT_EQ(nhung.sim_pki, "");
  EXPECT_EQ(nhung.csr, "");

  const IndividualRow& minh = parsed.rows[1];
  EXPECT_EQ(minh.row, 3u);
  EXPECT_EQ(minh.ngay_sinh, 1979y / std::chrono::September / 3d);
  EXPECT_EQ(minh.ngay_cap, 2022y / std::chrono::January / 5d);
  EXPECT_EQ(minh.email, "tvminh@dongnai.gov.vn");
  EXPECT_EQ(EmailDomain(minh.email), "dongnai.gov.vn");
  EXPECT_EQ(minh.dien_thoai, "0983456789");
  EXPECT_EQ(minh.serial_cu, "54012a7f000000000001");
  EXPECT_EQ(minh.sim_pki, "Viettel");
}

TEST(Mau01Test, R9_6_EveryBadRowReportedWithColumn) {
  Person bad_cccd;
  bad_cccd.cccd = "07518800123";
  Person bad_many = Minh();
  bad_many.ho_ten = "";
  bad_many.email = "tvminh@";
  bad_many.ngay_cap = "31/02/2022";
  bad_many.sim_pki = "Beeline";
  Person bad_position;
  bad_position.cccd = "075090012345";
  bad_position.chuc_vu = " ";
  bad_position.co_quan = "";
  Person good;
  good.cccd = "075090099999";

  Parsed<IndividualRow> parsed =
      ParseMau01(Csv01({bad_cccd, good, bad_many, bad_position}), kToday);
  EXPECT_THAT(parsed.rows, IsEmpty());  // nothing of a rejected batch (R9.6)
  EXPECT_THAT(Where(parsed.errors),
              ElementsAre(W{2, "cccd"}, W{4, "ho_ten"}, W{4, "ngay_cap"}, W{4, "email"},
                          W{4, "sim_pki"}, W{5, "co_quan"}, W{5, "chuc_vu"}));
  for (const FormError& e : parsed.errors) EXPECT_FALSE(e.reason.empty());
}

TEST(Mau01Test, R9_6_QuotedFieldsWithCommasAndNewlines) {
  std::string csv(kHeader01);
  csv +=
      "\"Lê Hoàng Phúc\",01/01/1985,075085001111,15/03/2021,"
      "\"Cục Cảnh sát quản lý hành chính về trật tự xã hội, Bộ Công an\","
      "lhphuc@dongnai.gov.vn,\"Văn phòng Hội đồng nhân dân\nvà Ủy ban nhân dân phường Trấn Biên\","
      "Đồng Nai,\"Chánh Văn phòng \"\"kiêm\"\" Phó Chủ tịch\",0909 123 456,,\n";
  csv += PersonLine(Person());

  Parsed<IndividualRow> parsed = ParseMau01(csv, kToday);
  ASSERT_THAT(parsed.errors, IsEmpty()) << FormatErrors(parsed.errors);
  ASSERT_EQ(parsed.rows.size(), 2u);
  EXPECT_EQ(parsed.rows[0].noi_cap,
            "Cục Cảnh sát quản lý hành chính về trật tự xã hội, Bộ Công an");
  EXPECT_EQ(parsed.rows[0].co_quan,
            "Văn phòng Hội đồng nhân dân và Ủy ban nhân dân phường Trấn Biên");
  EXPECT_EQ(parsed.rows[0].chuc_vu, "Chánh Văn phòng \"kiêm\" Phó Chủ tịch");
  EXPECT_EQ(parsed.rows[0].dien_thoai, "0909123456");
  // The multi-line cell is one spreadsheet row, so the next person is row 3 (text line 4).
  EXPECT_EQ(parsed.rows[1].row, 3u);
}

TEST(Mau01Test, R9_6_LineBreakInNameRejected) {
  Person p;
  p.ho_ten = "Nguyễn Thị\nHồng Nhung";
  EXPECT_THAT(ErrorsOf01(p), ElementsAre(W{2, "ho_ten"}));
}

TEST(Mau01Test, R9_6_BomAndCrlf) {
  std::string csv = "\xEF\xBB\xBF" + Csv01({Person(), Minh()});
  std::string crlf;
  for (char c : csv) crlf += c == '\n' ? std::string("\r\n") : std::string(1, c);

  Parsed<IndividualRow> parsed = ParseMau01(crlf, kToday);
  ASSERT_THAT(parsed.errors, IsEmpty()) << FormatErrors(parsed.errors);
  ASSERT_EQ(parsed.rows.size(), 2u);
  EXPECT_EQ(parsed.rows[0].ho_ten, "Nguyễn Thị Hồng Nhung");  // BOM not glued to the header
  EXPECT_EQ(parsed.rows[1].sim_pki, "Viettel");               // no CR left on the last cell
}

TEST(Mau01Test, R9_6_ColumnsInAnyOrderWithOptionalCsr) {
  const std::string csv =
      " Email ,SIM_PKI,serial_cu,dien_thoai,chuc_vu,tinh,co_quan,noi_cap,ngay_cap,cccd,"
      "ngay_sinh,ho_ten,csr\n"
      "pttrang@dongnai.gov.vn,MobiFone,,0898 765 432,Kế toán trưởng,Đồng Nai,Sở Y tế,"
      "Cục Cảnh sát quản lý hành chính về trật tự xã hội,02/02/2022,075192005678,"
      "21/11/1992,Phạm Thị Thu Trang,csr/pttrang.p10\n";
  Parsed<IndividualRow> parsed = ParseMau01(csv, kToday);
  ASSERT_THAT(parsed.errors, IsEmpty()) << FormatErrors(parsed.errors);
  ASSERT_EQ(parsed.rows.size(), 1u);
  EXPECT_EQ(parsed.rows[0].ho_ten, "Phạm Thị Thu Trang");
  EXPECT_EQ(parsed.rows[0].sim_pki, "MobiFone");
  EXPECT_EQ(parsed.rows[0].dien_thoai, "0898765432");
  EXPECT_EQ(parsed.rows[0].csr, "csr/pttrang.p10");
}

TEST(Mau01Test, R9_6_PhoneNormalised) {
  for (const char* written : {"0912345678", "091 234 5678", "0912.345.678", "0912-345-678",
                              "+84912345678", "+84 912 345 678", " 0912345678 "}) {
    Person p;
    p.dien_thoai = written;
    EXPECT_EQ(ParseOne01(p).dien_thoai, "0912345678") << written;
  }
  for (const char* written :
       {"912345678", "091234567", "09123456789", "0212345678", "0012345678", "+8409123456789",
        "84912345678", "0912/345/678", "(091) 2345678", "o912345678"}) {
    Person p;
    p.dien_thoai = written;
    EXPECT_THAT(ErrorsOf01(p), ElementsAre(W{2, "dien_thoai"})) << written;
  }
  Person no_phone;  // a USB token holder need not give a number
  no_phone.dien_thoai = "";
  EXPECT_EQ(ParseOne01(no_phone).dien_thoai, "");
}

TEST(Mau01Test, R9_6_SerialNormalised) {
  const std::vector<std::pair<std::string, std::string>> cases = {
      {"54:01:2A:7F:00:00:00:00:00:01", "54012a7f000000000001"},
      {"00:8F:3A:11", "8f3a11"},  // the DER sign octet is not part of the number
      {"000000ABC", "0abc"},
      {"7", "07"},
      {"1a2B3c", "1a2b3c"},
      {"7f" + std::string(38, 'E'), "7f" + std::string(38, 'e')},  // 20 octets: the maximum
  };
  for (const auto& [written, normal] : cases) {
    Person p;
    p.serial_cu = written;
    EXPECT_EQ(ParseOne01(p).serial_cu, normal) << written;
  }
  const std::vector<std::string> bad = {
      "0", "00:00", "xyz", "54-01-2A", "0x5401", "54 01", "01" + std::string(40, 'f')};
  for (const std::string& written : bad) {
    Person p;
    p.serial_cu = written;
    EXPECT_THAT(ErrorsOf01(p), ElementsAre(W{2, "serial_cu"})) << written;
  }
}

TEST(Mau01Test, R9_6_SimOperatorNormalised) {
  const std::pair<const char*, const char*> cases[] = {
      {"viettel", "Viettel"},   {"VINAPHONE", "VinaPhone"}, {"Vina Phone", "VinaPhone"},
      {"mobifone", "MobiFone"}, {"Mobi-Fone", "MobiFone"},  {"vietnamobile", "Vietnamobile"},
      {"GMOBILE", "Gmobile"},   {"itelecom", "Itelecom"},   {" Wintel ", "Wintel"},
  };
  for (const auto& [written, normal] : cases) {
    Person p;
    p.sim_pki = written;
    EXPECT_EQ(ParseOne01(p).sim_pki, normal) << written;
  }
  for (const char* written : {"Beeline", "SFone", "Viettel Telecom", "Vietel"}) {
    Person p;
    p.sim_pki = written;
    EXPECT_THAT(ErrorsOf01(p), ElementsAre(W{2, "sim_pki"})) << written;
  }
}

TEST(Mau01Test, R9_6_SimPkiNeedsPhoneNumber) {
  Person p;
  p.sim_pki = "VinaPhone";
  p.dien_thoai = "";
  EXPECT_THAT(ErrorsOf01(p), ElementsAre(W{2, "dien_thoai"}));
}

TEST(Mau01Test, R9_6_Under18Rejected) {
  Person adult;  // 18 years old today, 15/03/2026
  adult.ngay_sinh = "15/03/2008";
  adult.ngay_cap = "01/04/2024";
  EXPECT_EQ(ParseOne01(adult).ngay_sinh, 2008y / std::chrono::March / 15d);

  Person minor = adult;  // turns 18 tomorrow
  minor.ngay_sinh = "16/03/2008";
  EXPECT_THAT(ErrorsOf01(minor), ElementsAre(W{2, "ngay_sinh"}));

  Person unborn = adult;
  unborn.ngay_sinh = "16/03/2026";
  EXPECT_THAT(ErrorsOf01(unborn), ElementsAre(W{2, "ngay_sinh"}));

  Person born_today = adult;
  born_today.ngay_sinh = "15/03/2026";
  EXPECT_THAT(ErrorsOf01(born_today), ElementsAre(W{2, "ngay_sinh"}));
}

TEST(Mau01Test, R9_6_LeapDayBirthComesOfAgeOnFirstOfMarch) {
  Person p;
  p.ngay_sinh = "29/02/2008";
  p.ngay_cap = "01/04/2024";
  EXPECT_THAT(ErrorsOf01(p), IsEmpty());  // 1 March 2026 is before kToday

  const std::string csv = Csv01({p});
  EXPECT_THAT(ParseMau01(csv, 2026y / std::chrono::February / 28d).errors,
              ElementsAre(Field(&FormError::column, "ngay_sinh")));
  EXPECT_THAT(ParseMau01(csv, 2026y / std::chrono::March / 1d).errors, IsEmpty());
}

TEST(Mau01Test, R9_6_DatesValidated) {
  for (const char* written : {"31/02/1990", "29/02/1990", "00/01/1990", "12/13/1990", "1990-04-12",
                              "12.04.1990", "12/04/90", "12/04/01990", "012/04/1990", "12//1990",
                              "12/04/1990/1", "12/04/1899", "", "mười hai/4/1990"}) {
    Person p;
    p.ngay_sinh = written;
    EXPECT_THAT(ErrorsOf01(p), ElementsAre(W{2, "ngay_sinh"})) << written;
  }
  Person leap;
  leap.ngay_sinh = "29/2/1988";
  EXPECT_EQ(ParseOne01(leap).ngay_sinh, 1988y / std::chrono::February / 29d);

  Person issued_tomorrow;
  issued_tomorrow.ngay_cap = "16/03/2026";
  EXPECT_THAT(ErrorsOf01(issued_tomorrow), ElementsAre(W{2, "ngay_cap"}));
  Person issued_today;
  issued_today.ngay_cap = "15/03/2026";
  EXPECT_THAT(ErrorsOf01(issued_today), IsEmpty());
  Person issued_before_birth;
  issued_before_birth.ngay_cap = "11/04/1988";
  EXPECT_THAT(ErrorsOf01(issued_before_birth), ElementsAre(W{2, "ngay_cap"}));
}

TEST(Mau01Test, R9_6_CccdExactly12Digits) {
  for (const char* written : {"07518800123", "0751880012345", "07518800123a", "075 188 001 234", "",
                              "７５１８８００１２３４", "7.51880E+10"}) {
    Person p;
    p.cccd = written;
    EXPECT_THAT(ErrorsOf01(p), ElementsAre(W{2, "cccd"})) << written;
  }
  Person spaced;
  spaced.cccd = " 075188001234 ";
  EXPECT_EQ(ParseOne01(spaced).cccd, "075188001234");
}

TEST(Mau01Test, R9_6_DuplicateCccdReportsBothRows) {
  Person nhung;
  Person minh = Minh();
  Person nhung_again;
  nhung_again.email = "nhung.nth@dongnai.gov.vn";
  Person nhung_third = nhung_again;
  Parsed<IndividualRow> parsed = ParseMau01(Csv01({nhung, minh, nhung_again, nhung_third}), kToday);
  EXPECT_THAT(parsed.rows, IsEmpty());
  EXPECT_THAT(Where(parsed.errors), ElementsAre(W{2, "cccd"}, W{4, "cccd"}, W{5, "cccd"}));
}

TEST(Mau01Test, R9_6_EmailShapeCheckedAndLowerCased) {
  Person upper;
  upper.email = "  NTHNhung@DongNai.GOV.vn ";
  const IndividualRow row = ParseOne01(upper);
  EXPECT_EQ(row.email, "nthnhung@dongnai.gov.vn");
  EXPECT_EQ(EmailDomain(row.email), "dongnai.gov.vn");

  Person plus;
  plus.email = "nguyen.thi-hong_nhung+kyso@skhcn.dongnai.gov.vn";
  EXPECT_EQ(EmailDomain(ParseOne01(plus).email), "skhcn.dongnai.gov.vn");

  for (const char* written :
       {"", "nthnhung", "nthnhung@", "@dongnai.gov.vn", "nthnhung@localhost", "a@b@dongnai.gov.vn",
        "nhung@dongnai..gov.vn", "nhung@dongnai.gov.vn.", ".nhung@dongnai.gov.vn",
        "nh..ung@dongnai.gov.vn", "nhung@-dongnai.gov.vn", "nhung@dongnai.gov.123",
        "nhung @dongnai.gov.vn", "nhung@dong_nai.gov.vn", "nhungđ@dongnai.gov.vn",
        "nhung＠dongnai.gov.vn", "<nhung@dongnai.gov.vn>"}) {
    Person p;
    p.email = written;
    EXPECT_THAT(ErrorsOf01(p), ElementsAre(W{2, "email"})) << written;
  }
}

TEST(Mau01Test, R9_6_TextFieldsNormalisedAndBounded) {
  Person spaced;
  spaced.ho_ten = "  Nguyễn   Thị Hồng\xC2\xA0Nhung ";  // NBSP pasted from a word processor
  spaced.chuc_vu = "Trưởng phòng\r\nChuyển đổi số";
  const IndividualRow row = ParseOne01(spaced);
  EXPECT_EQ(row.ho_ten, "Nguyễn Thị Hồng Nhung");
  EXPECT_EQ(row.chuc_vu, "Trưởng phòng Chuyển đổi số");

  // 64 code points of Vietnamese are accepted although they take more than 64 bytes.
  std::string name_64;
  for (int i = 0; i < 16; ++i) name_64 += "Ngữễ";
  Person longest;
  longest.ho_ten = name_64;
  EXPECT_EQ(ParseOne01(longest).ho_ten, name_64);

  Person too_long;
  too_long.ho_ten = name_64 + "n";
  too_long.noi_cap = std::string(129, 'x');
  too_long.chuc_vu = std::string(129, 'x');
  EXPECT_THAT(ErrorsOf01(too_long), ElementsAre(W{2, "ho_ten"}, W{2, "noi_cap"}, W{2, "chuc_vu"}));

  for (const char* written :
       {"Nguyễn Thị\tHồng", "Nguyễn\x01Thị", "Nguyễn\x7FThị", "Nguyễn\xC2\x85Thị",
        "Nguyễn\xE2\x80\x8BThị", "Nguyễn\xE2\x80\xAEThị"}) {
    Person p;
    p.ho_ten = written;
    EXPECT_THAT(ErrorsOf01(p), ElementsAre(W{2, "ho_ten"})) << written;
  }
}

TEST(Mau01Test, R9_6_HeaderProblemsReportedOnRow1) {
  Person p;
  // Unknown column: row 1, named by what was written.
  std::string unknown =
      "ho_ten,ngay_sinh,cccd,ngay_cap,noi_cap,email,co_quan,tinh,chuc_vu,"
      "dien_thoai,serial_cu,sim_pki,Ghi chú\n" +
      Line({p.ho_ten, p.ngay_sinh, p.cccd, p.ngay_cap, p.noi_cap, p.email, p.co_quan, p.tinh,
            p.chuc_vu, p.dien_thoai, "", "", "x"});
  EXPECT_THAT(Where(ParseMau01(unknown, kToday).errors), ElementsAre(W{1, "Ghi chú"}));

  // Missing columns: one error per column.
  std::string missing =
      "ho_ten,ngay_sinh,cccd,ngay_cap,noi_cap,email,co_quan,tinh,chuc_vu,"
      "dien_thoai\n" +
      Line({p.ho_ten, p.ngay_sinh, p.cccd, p.ngay_cap, p.noi_cap, p.email, p.co_quan, p.tinh,
            p.chuc_vu, p.dien_thoai});
  EXPECT_THAT(Where(ParseMau01(missing, kToday).errors),
              ElementsAre(W{1, "serial_cu"}, W{1, "sim_pki"}));

  // Duplicate column, even in another case.
  std::string doubled = std::string(kHeader01.substr(0, kHeader01.size() - 1)) + ",CCCD\n" +
                        Line({p.ho_ten, p.ngay_sinh, p.cccd, p.ngay_cap, p.noi_cap, p.email,
                              p.co_quan, p.tinh, p.chuc_vu, p.dien_thoai, "", "", p.cccd});
  EXPECT_THAT(Where(ParseMau01(doubled, kToday).errors), ElementsAre(W{1, "cccd"}));

  // A column without a name (a trailing comma in the header).
  std::string unnamed = std::string(kHeader01.substr(0, kHeader01.size() - 1)) + ",\n" +
                        PersonLine(p).substr(0, PersonLine(p).size() - 1) + ",\n";
  EXPECT_THAT(Where(ParseMau01(unnamed, kToday).errors), ElementsAre(W{1, ""}));

  // Mẫu 02's header is not Mẫu 01's.
  EXPECT_THAT(ParseMau01(Csv02({Organization()}), kToday).errors, Not(IsEmpty()));
}

TEST(Mau01Test, R9_6_EmptyAndHeaderOnlyFilesRejected) {
  for (std::string csv :
       {std::string(""), std::string("\xEF\xBB\xBF"), std::string("\n\n"), std::string(" , ,\r\n"),
        std::string(kHeader01), std::string(kHeader01) + "\n,,,,,,,,,,,\n"}) {
    Parsed<IndividualRow> parsed = ParseMau01(csv, kToday);
    EXPECT_THAT(parsed.rows, IsEmpty());
    EXPECT_THAT(Where(parsed.errors), ElementsAre(W{0, ""})) << csv;
  }
  EXPECT_THAT(
      Where(ParseMau01("\n" + std::string(kHeader01) + PersonLine(Person()), kToday).errors),
      ElementsAre(W{1, ""}));
}

TEST(Mau01Test, R9_6_BlankRowsSkippedAndRowNumbersKept) {
  const std::string csv =
      std::string(kHeader01) + PersonLine(Person()) + "\n,,,,,,,,,,,\n" + PersonLine(Minh());
  Parsed<IndividualRow> parsed = ParseMau01(csv, kToday);
  ASSERT_THAT(parsed.errors, IsEmpty()) << FormatErrors(parsed.errors);
  ASSERT_EQ(parsed.rows.size(), 2u);
  EXPECT_EQ(parsed.rows[0].row, 2u);
  EXPECT_EQ(parsed.rows[1].row, 5u);
}

TEST(Mau01Test, R9_6_WrongNumberOfCellsIsARowError) {
  Person p;
  const std::string line = PersonLine(p);
  const std::string csv = std::string(kHeader01) + line.substr(0, line.size() - 1) + ",extra\n" +
                          "Nguyễn Văn An,01/01/1990\n" + PersonLine(Minh());
  Parsed<IndividualRow> parsed = ParseMau01(csv, kToday);
  EXPECT_THAT(parsed.rows, IsEmpty());
  EXPECT_THAT(Where(parsed.errors), ElementsAre(W{2, ""}, W{3, ""}));
}

TEST(Mau01Test, R9_6_InvalidTodayIsAnErrorNotACrash) {
  Parsed<IndividualRow> parsed = ParseMau01(Csv01({Person()}), 2026y / std::chrono::February / 30d);
  EXPECT_THAT(parsed.rows, IsEmpty());
  EXPECT_THAT(Where(parsed.errors), ElementsAre(W{0, ""}));
}

// --- Mẫu 02 -------------------------------------------------------------------------------

TEST(Mau02Test, R9_6_ValidRowsParsed) {
  const std::string csv =
      "ten,dia_chi,ma_so_thue,ma_qhns,tinh,email,nguoi_nhan,csr\n"
      "Sở Khoa học và Công nghệ,\"Số 2 Nguyễn Văn Trị,\nphường Trấn Biên, tỉnh Đồng Nai\","
      "3600123456,1012345,Đồng Nai,SKHCN@dongnai.gov.vn,Nguyễn Thị Hồng Nhung,csr/skhcn.p10\n"
      "Bệnh viện Đa khoa Đồng Nai,\"Số 2 Đồng Khởi, phường Trấn Biên\",3600123456-002,1098765,"
      "Đồng Nai,bvdk@dongnai.gov.vn,,\n";
  Parsed<OrganizationRow> parsed = ParseMau02(csv);
  ASSERT_THAT(parsed.errors, IsEmpty()) << FormatErrors(parsed.errors);
  ASSERT_EQ(parsed.rows.size(), 2u);
  const OrganizationRow& so = parsed.rows[0];
  EXPECT_EQ(so.row, 2u);
  EXPECT_EQ(so.ten, "Sở Khoa học và Công nghệ");
  EXPECT_EQ(so.dia_chi, "Số 2 Nguyễn Văn Trị, phường Trấn Biên, tỉnh Đồng Nai");
  EXPECT_EQ(so.ma_so_thue, "3600123456");
  EXPECT_EQ(so.ma_qhns, "1012345");
  EXPECT_EQ(so.tinh, "Đồng Nai");
  EXPECT_EQ(so.email, "skhcn@dongnai.gov.vn");
  EXPECT_EQ(so.nguoi_nhan, "Nguyễn Thị Hồng Nhung");
  EXPECT_EQ(so.csr, "csr/skhcn.p10");
  EXPECT_EQ(parsed.rows[1].row, 3u);
  EXPECT_EQ(parsed.rows[1].ma_so_thue, "3600123456-002");
  EXPECT_EQ(parsed.rows[1].nguoi_nhan, "");
}

TEST(Mau02Test, R9_6_TaxCodeForms) {
  for (const char* written : {"3600123456", "0100109106", "3600123456-001", " 3600123456-999 "}) {
    Organization o;
    o.ma_so_thue = written;
    Parsed<OrganizationRow> parsed = ParseMau02(Csv02({o}));
    ASSERT_THAT(parsed.errors, IsEmpty()) << written << FormatErrors(parsed.errors);
    EXPECT_EQ(parsed.rows[0].ma_so_thue,
              std::string(written).substr(written[0] == ' ' ? 1 : 0, 14));
  }
  for (const char* written :
       {"", "360012345", "36001234567", "3600123456001", "3600123456-01", "3600123456-0001",
        "3600123456_001", "3600123456 -001", "36001234a6", "-3600123456", "100109106"}) {
    Organization o;
    o.ma_so_thue = written;
    EXPECT_THAT(Where(ParseMau02(Csv02({o})).errors), ElementsAre(W{2, "ma_so_thue"})) << written;
  }
}

TEST(Mau02Test, R9_6_BudgetRelationCodeIs7Digits) {
  for (const char* written : {"", "112345", "11234567", "11234a6", "1123-456"}) {
    Organization o;
    o.ma_qhns = written;
    EXPECT_THAT(Where(ParseMau02(Csv02({o})).errors), ElementsAre(W{2, "ma_qhns"})) << written;
  }
}

TEST(Mau02Test, R9_6_EveryBadRowReportedWithColumn) {
  Organization good;
  Organization bad_name;
  bad_name.ten = std::string(65, 'A');
  Organization bad_many;
  bad_many.dia_chi = "";
  bad_many.tinh = "";
  bad_many.email = "vanthu@dongnai";
  Organization long_address;
  long_address.dia_chi = std::string(257, 'x');
  Parsed<OrganizationRow> parsed = ParseMau02(Csv02({good, bad_name, bad_many, long_address}));
  EXPECT_THAT(parsed.rows, IsEmpty());
  EXPECT_THAT(Where(parsed.errors), ElementsAre(W{3, "ten"}, W{4, "dia_chi"}, W{4, "tinh"},
                                                W{4, "email"}, W{5, "dia_chi"}));
}

TEST(Mau02Test, R9_6_RecipientIsOptionalButChecked) {
  const std::string csv = std::string("ten,dia_chi,ma_so_thue,ma_qhns,tinh,email,nguoi_nhan\n") +
                          "Sở Tư pháp,Biên Hòa,3600111222,1011111,Đồng Nai,stp@dongnai.gov.vn,"
                          "\"Trần Văn\nMinh\"\n";
  EXPECT_THAT(Where(ParseMau02(csv).errors), ElementsAre(W{2, "nguoi_nhan"}));
  EXPECT_THAT(Where(ParseMau02(Csv01({Person()})).errors), Not(IsEmpty()));
}

// --- CSV reader and limits ----------------------------------------------------------------

TEST(CsvTest, R9_6_ReadsRfc4180) {
  auto rows = ReadCsv("a,\"b,c\",\"d\"\"e\"\r\n\"f\r\ng\", \"h\" ,\n\nlast", Limits{});
  ASSERT_TRUE(rows.ok()) << rows.status().ToString();
  using R = std::vector<std::string>;
  EXPECT_THAT(*rows, ElementsAre(R{"a", "b,c", "d\"e"}, R{"f\ng", "h", ""}, R{""}, R{"last"}));
  EXPECT_THAT(*ReadCsv("x\ry\r", Limits{}), ElementsAre(R{"x"}, R{"y"}));
  EXPECT_THAT(*ReadCsv("", Limits{}), IsEmpty());
  EXPECT_THAT(*ReadCsv("\xEF\xBB\xBF", Limits{}), IsEmpty());
}

TEST(CsvTest, R9_6_MalformedQuotingIsAnError) {
  for (const char* csv : {"a,\"b\nc,d\n", "a,b\"c\n", "a,\"b\"c\n", "\"a\"\"\n", "\""}) {
    auto rows = ReadCsv(csv, Limits{});
    ASSERT_FALSE(rows.ok()) << csv;
    EXPECT_EQ(rows.status().code(), Code::kInvalidArgument);
  }
  // Through a form: a whole-row error on the spreadsheet row of the bad cell.
  const std::string csv = Csv01({Person(), Minh()}) + "Lê Văn \"Tư\",01/01/1980\n";
  EXPECT_THAT(Where(ParseMau01(csv, kToday).errors), ElementsAre(W{4, ""}));
}

TEST(CsvTest, R9_6_InvalidUtf8IsAnError) {
  for (const char* csv :
       {"ho_ten\nNguy\xE1\xBB\n", "a\xC0\xAF", "\xED\xA0\x80", "\xF4\x90\x80\x80", "\xFF"}) {
    EXPECT_EQ(ReadCsv(csv, Limits{}).status().code(), Code::kInvalidArgument) << csv;
  }
  EXPECT_THAT(Where(ParseMau01(std::string(kHeader01) + "Nguy\xE1\xBB\n", kToday).errors),
              ElementsAre(W{2, ""}));
}

TEST(CsvTest, R9_6_LimitsEnforced) {
  const std::string csv = Csv01({Person(), Minh()});
  Limits tiny_bytes;
  tiny_bytes.max_bytes = csv.size() - 1;
  EXPECT_EQ(ReadCsv(csv, tiny_bytes).status().code(), Code::kInvalidArgument);
  EXPECT_THAT(Where(ParseMau01(csv, kToday, tiny_bytes).errors), ElementsAre(W{0, ""}));
  tiny_bytes.max_bytes = csv.size();
  EXPECT_THAT(ParseMau01(csv, kToday, tiny_bytes).errors, IsEmpty());

  Limits one_row;
  one_row.max_rows = 1;
  EXPECT_EQ(ReadCsv(csv, one_row).status().code(), Code::kInvalidArgument);
  EXPECT_THAT(Where(ParseMau01(csv, kToday, one_row).errors), ElementsAre(W{3, ""}));
  one_row.max_rows = 2;
  EXPECT_THAT(ParseMau01(csv, kToday, one_row).errors, IsEmpty());

  Limits short_cells;
  short_cells.max_field = 40;  // "Cục Cảnh sát ..." is longer
  EXPECT_EQ(ReadCsv(csv, short_cells).status().code(), Code::kInvalidArgument);
  EXPECT_THAT(Where(ParseMau01(csv, kToday, short_cells).errors), ElementsAre(W{2, ""}));

  Limits few_columns;
  few_columns.max_columns = 11;
  EXPECT_THAT(Where(ParseMau01(csv, kToday, few_columns).errors), ElementsAre(W{1, ""}));
}

TEST(CsvTest, R9_6_HostileInputNeverCrashes) {
  // Every prefix of a file with quotes, multi-byte text and CRLF, and every single-byte
  // corruption of it, gives rows or errors, never both and never neither.
  std::string csv = "\xEF\xBB\xBF" + std::string(kHeader01) + PersonLine(Minh());
  csv +=
      "\"Lê Hoàng Phúc\",01/01/1985,075085001111,15/03/2021,\"Bộ Công an,\r\nHà Nội\","
      "lhphuc@dongnai.gov.vn,Sở Nội vụ,Đồng Nai,Chuyên viên,,,\r\n";
  const auto check = [](std::string_view input) {
    Parsed<IndividualRow> p1 = ParseMau01(input, kToday);
    EXPECT_NE(p1.rows.empty(), p1.errors.empty());
    Parsed<OrganizationRow> p2 = ParseMau02(input);
    EXPECT_NE(p2.rows.empty(), p2.errors.empty());
    for (const FormError& e : p1.errors) EXPECT_EQ(e.reason.find('\n'), std::string::npos);
  };
  for (std::size_t n = 0; n <= csv.size(); ++n) check(std::string_view(csv).substr(0, n));
  for (std::size_t i = 0; i < csv.size(); ++i) {
    for (char c : {'\0', '"', ',', '\n', '\r', '\xC3', '\xFF'}) {
      std::string mutated = csv;
      mutated[i] = c;
      check(mutated);
    }
  }
}

// --- FormatErrors -------------------------------------------------------------------------

TEST(FormatErrorsTest, R9_6_OneLinePerError) {
  const std::vector<FormError> errors = {
      {0, "", "tệp CSV trống"},
      {3, "cccd", "số CCCD phải gồm đúng 12 chữ số"},
      {4, "", "dòng có 2 ô nhưng dòng tiêu đề có 12 cột"},
  };
  EXPECT_EQ(FormatErrors(errors),
            "Tệp CSV: tệp CSV trống\n"
            "Dòng 3, cột cccd: số CCCD phải gồm đúng 12 chữ số\n"
            "Dòng 4: dòng có 2 ô nhưng dòng tiêu đề có 12 cột\n");
  EXPECT_EQ(FormatErrors({}), "");
}

TEST(FormatErrorsTest, R9_6_FormatsRealErrorsOneLineEach) {
  Person p = Minh();
  p.cccd = "123";
  p.ngay_sinh = "31/02/1990";
  p.dien_thoai = "12345";
  p.ho_ten = "";
  const std::vector<FormError> errors = ParseMau01(Csv01({p}), kToday).errors;
  ASSERT_EQ(errors.size(), 4u);
  const std::string text = FormatErrors(errors);
  EXPECT_EQ(std::count(text.begin(), text.end(), '\n'), 4);
  EXPECT_TRUE(text.starts_with("Dòng 2, cột ho_ten: ")) << text;
}

}  // namespace
}  // namespace kyso::ra::forms
