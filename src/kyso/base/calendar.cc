#include "kyso/base/calendar.h"

#include <algorithm>
#include <array>
#include <cstdio>
#include <iterator>
#include <optional>
#include <string>
#include <utility>

namespace kyso {

using namespace std::chrono_literals;

namespace {

// The official days off (R14.1), Monday to Friday only: a day off on a weekend is replaced by
// the compensatory weekday, which is what is listed. Edit here, or override in the deployment's
// config.
//
// Law: Labour Code 2019 (Bộ luật Lao động 45/2019/QH14) Art. 112.1 gives New Year 1/1, Tết
// Nguyên Đán 5 days, Hùng Kings' Commemoration 10/3 lunar, 30/4, 1/5, and National Day 2/9
// plus one adjacent day; Art. 111.3: a holiday on a weekly rest day is compensated on the next
// working day. Each year the government fixes the exact days for agencies, often swapping a
// working day with a Saturday to bridge a gap.
//
// Lunar dates were checked with Hồ Ngọc Đức's Vietnamese lunar algorithm (UTC+7): Tết Bính Ngọ
// 17/2/2026, 10/3 Bính Ngọ 26/4/2026, Tết Đinh Mùi 6/2/2027, 10/3 Đinh Mùi 16/4/2027.
//
// Not listed: Vietnamese Culture Day 24/11. Politburo Resolution 80-NQ/TW (January 2026) and
// Government Resolution 30/NQ-CP (February 2026) call for making it a paid day off by amending
// Art. 112; add it here or in config once the amendment is in force.
//
// clang-format off
constexpr Date kVietnamHolidays[] = {
    // ---- 2026: announced ---------------------------------------------------------------------
    // New Year, Thu 1/1 (Art. 112.1.a).
    2026y / 1 / 1,
    // Fri 2/1, swapped with Sat 10/1 (made up): Office of the Government letter
    // 12729/VPCP-KGVX of 25/12/2025 approving the Ministry of Home Affairs' proposal.
    2026y / 1 / 2,
    // Tết Bính Ngọ, Mon 16/2 (29 tháng Chạp Ất Tỵ) to Fri 20/2 (mùng 4): Ministry of Home
    // Affairs announcement of October 2025 (a 9-day break 14/2 to 22/2 with the weekends).
    2026y / 2 / 16, 2026y / 2 / 17, 2026y / 2 / 18, 2026y / 2 / 19, 2026y / 2 / 20,
    // Hùng Kings 10/3 lunar is Sun 26/4, compensated Mon 27/4 (Art. 111.3).
    2026y / 4 / 27,
    // Reunification Day Thu 30/4, Labour Day Fri 1/5 (Art. 112.1.c, d).
    2026y / 4 / 30, 2026y / 5 / 1,
    // National Day Wed 2/9 with the day before, Tue 1/9; Mon 31/8 swapped with Sat 22/8 (made
    // up): Ministry of Home Affairs announcement of October 2025.
    2026y / 8 / 31, 2026y / 9 / 1, 2026y / 9 / 2,

    // ---- 2027: not yet announced; Labour Code rule with compensation ------------------------
    // New Year, Fri 1/1 (Art. 112.1.a).
    2027y / 1 / 1,
    // Tết Đinh Mùi (mùng 1 = Sat 6/2): the last day of the old year Fri 5/2 and mùng 1-4,
    // 6/2-9/2; mùng 1 and 2 fall on the weekend and are compensated Wed 10/2 and Thu 11/2.
    // The announcement may choose other days or add a swap (e.g. for Fri 12/2).
    2027y / 2 / 5, 2027y / 2 / 8, 2027y / 2 / 9, 2027y / 2 / 10, 2027y / 2 / 11,
    // Hùng Kings 10/3 lunar, Fri 16/4.
    2027y / 4 / 16,
    // Reunification Day Fri 30/4; Labour Day Sat 1/5, compensated Mon 3/5 (Art. 111.3).
    2027y / 4 / 30, 2027y / 5 / 3,
    // National Day Thu 2/9 with the day after, Fri 3/9 (as chosen in 2021, when 2/9 was also
    // a Thursday).
    2027y / 9 / 2, 2027y / 9 / 3,
};

// Saturdays worked in exchange for a bridging day off (see the swaps above).
constexpr Date kVietnamMakeupWorkingDays[] = {
    2026y / 1 / 10,  // for Fri 2/1/2026
    2026y / 8 / 22,  // for Mon 31/8/2026
};
// clang-format on

// Vietnam has kept UTC+7 without daylight saving time since 1975.
constexpr std::chrono::hours kVietnamUtcOffset{7};

using DayNumber = std::chrono::sys_days::rep;

DayNumber ToDayNumber(Date d) {
  KYSO_CHECK(d.ok());
  return std::chrono::sys_days(d).time_since_epoch().count();
}

Date FromDayNumber(DayNumber n) { return Date(std::chrono::sys_days(std::chrono::days(n))); }

bool IsWeekend(DayNumber n) {
  const std::chrono::weekday w{std::chrono::sys_days{std::chrono::days{n}}};
  return w == std::chrono::Saturday || w == std::chrono::Sunday;
}

// WeekdaysBefore counts Monday..Friday days from a fixed Monday up to, not including, day `n`.
// Only differences are used, so the origin does not matter; day -3 (1969-12-29) is a Monday.
DayNumber WeekdaysBefore(DayNumber n) {
  const DayNumber m = n + 3;
  DayNumber weeks = m / 7;
  DayNumber rest = m % 7;
  if (rest < 0) {  // floor division for days before the origin
    weeks -= 1;
    rest += 7;
  }
  return 5 * weeks + std::min<DayNumber>(rest, 5);
}

// CountIn counts the elements of sorted `v` in (from, to].
DayNumber CountIn(const std::vector<DayNumber>& v, DayNumber from, DayNumber to) {
  const auto lo = std::upper_bound(v.begin(), v.end(), from);
  const auto hi = std::upper_bound(lo, v.end(), to);
  return hi - lo;
}

void SortUnique(std::vector<DayNumber>& v) {
  std::sort(v.begin(), v.end());
  v.erase(std::unique(v.begin(), v.end()), v.end());
}

// ParseNumber reads `min_len`..`max_len` ASCII digits and nothing else (no sign, no space).
std::optional<int> ParseNumber(std::string_view s, std::size_t min_len, std::size_t max_len) {
  if (s.size() < min_len || s.size() > max_len) {
    return std::nullopt;
  }
  int value = 0;
  for (const char c : s) {
    if (c < '0' || c > '9') {
      return std::nullopt;
    }
    value = value * 10 + (c - '0');
  }
  return value;
}

// SplitDate splits "a<sep>b<sep>c" into exactly three parts.
std::optional<std::array<std::string_view, 3>> SplitDate(std::string_view text, char sep) {
  const std::size_t first = text.find(sep);
  if (first == std::string_view::npos) {
    return std::nullopt;
  }
  const std::size_t second = text.find(sep, first + 1);
  if (second == std::string_view::npos || text.find(sep, second + 1) != std::string_view::npos) {
    return std::nullopt;
  }
  return std::array<std::string_view, 3>{
      text.substr(0, first), text.substr(first + 1, second - first - 1), text.substr(second + 1)};
}

Result<Date> MakeDate(int y, int m, int d) {
  const Date date{std::chrono::year(y), std::chrono::month(static_cast<unsigned>(m)),
                  std::chrono::day(static_cast<unsigned>(d))};
  if (!date.ok()) {
    char buf[32];
    std::snprintf(buf, sizeof(buf), "%02d/%02d/%04d", d, m, y);
    return InvalidArgumentError(std::string("no such date: ") + buf);
  }
  return date;
}

}  // namespace

Date LocalDate(Time t) {
  return Date(std::chrono::floor<std::chrono::days>(t + kVietnamUtcOffset));
}

Result<Date> ParseDate(std::string_view text) {
  const auto parts = SplitDate(text, '-');
  if (!parts) {
    return InvalidArgumentError("date must be YYYY-MM-DD");
  }
  const auto y = ParseNumber((*parts)[0], 4, 4);
  const auto m = ParseNumber((*parts)[1], 2, 2);
  const auto d = ParseNumber((*parts)[2], 2, 2);
  if (!y || !m || !d) {
    return InvalidArgumentError("date must be YYYY-MM-DD");
  }
  return MakeDate(*y, *m, *d);
}

Result<Date> ParseDateVn(std::string_view text) {
  const auto parts = SplitDate(text, '/');
  if (!parts) {
    return InvalidArgumentError("date must be dd/mm/yyyy");
  }
  const auto d = ParseNumber((*parts)[0], 1, 2);
  const auto m = ParseNumber((*parts)[1], 1, 2);
  const auto y = ParseNumber((*parts)[2], 4, 4);
  if (!y || !m || !d) {
    return InvalidArgumentError("date must be dd/mm/yyyy");
  }
  return MakeDate(*y, *m, *d);
}

std::string FormatDate(Date d) {
  KYSO_CHECK(d.ok());
  char buf[32];
  std::snprintf(buf, sizeof(buf), "%04d-%02u-%02u", static_cast<int>(d.year()),
                static_cast<unsigned>(d.month()), static_cast<unsigned>(d.day()));
  return buf;
}

std::string FormatDateVn(Date d) {
  KYSO_CHECK(d.ok());
  char buf[32];
  std::snprintf(buf, sizeof(buf), "%02u/%02u/%04d", static_cast<unsigned>(d.day()),
                static_cast<unsigned>(d.month()), static_cast<int>(d.year()));
  return buf;
}

WorkingCalendar::WorkingCalendar(std::vector<Date> holidays)
    : WorkingCalendar(std::move(holidays), {}) {}

WorkingCalendar::WorkingCalendar(std::vector<Date> holidays,
                                 std::vector<Date> makeup_working_days) {
  std::vector<DayNumber> all_holidays;
  for (const Date d : holidays) {
    const DayNumber n = ToDayNumber(d);
    all_holidays.push_back(n);
    if (!IsWeekend(n)) {
      weekday_holidays_.push_back(n);
    }
    covered_years_.push_back(static_cast<int>(d.year()));
  }
  SortUnique(all_holidays);
  SortUnique(weekday_holidays_);
  for (const Date d : makeup_working_days) {
    const DayNumber n = ToDayNumber(d);
    if (IsWeekend(n) && !std::binary_search(all_holidays.begin(), all_holidays.end(), n)) {
      weekend_makeups_.push_back(n);
    }
    covered_years_.push_back(static_cast<int>(d.year()));
  }
  SortUnique(weekend_makeups_);
  std::sort(covered_years_.begin(), covered_years_.end());
  covered_years_.erase(std::unique(covered_years_.begin(), covered_years_.end()),
                       covered_years_.end());
}

WorkingCalendar WorkingCalendar::VietnamDefault() {
  return WorkingCalendar(VietnamHolidays2026And2027(), VietnamMakeupWorkingDays2026And2027());
}

const std::vector<Date>& WorkingCalendar::VietnamHolidays2026And2027() {
  static const std::vector<Date> holidays(std::begin(kVietnamHolidays), std::end(kVietnamHolidays));
  return holidays;
}

const std::vector<Date>& WorkingCalendar::VietnamMakeupWorkingDays2026And2027() {
  static const std::vector<Date> days(std::begin(kVietnamMakeupWorkingDays),
                                      std::end(kVietnamMakeupWorkingDays));
  return days;
}

bool WorkingCalendar::IsWorkingDay(Date d) const {
  const DayNumber n = ToDayNumber(d);
  return CountBetween(n - 1, n) == 1;
}

WorkingCalendar::DayNumber WorkingCalendar::CountBetween(DayNumber from, DayNumber to) const {
  if (to <= from) {
    return 0;
  }
  return WeekdaysBefore(to + 1) - WeekdaysBefore(from + 1) - CountIn(weekday_holidays_, from, to) +
         CountIn(weekend_makeups_, from, to);
}

int WorkingCalendar::WorkingDaysBetween(Date from, Date to) const {
  // At most about 5/7 of the days between two valid dates: fits in an int.
  return static_cast<int>(CountBetween(ToDayNumber(from), ToDayNumber(to)));
}

Date WorkingCalendar::AddWorkingDays(Date start, int n) const {
  KYSO_CHECK(n >= 0 && n <= kMaxWorkingDays);
  const DayNumber s = ToDayNumber(start);
  if (n == 0) {
    if (IsWorkingDay(start)) {
      return start;
    }
    n = 1;  // the next working day
  }
  // Any 7 * k consecutive days hold 5 * k weekdays, and each weekday holiday after `s` removes
  // at most one, so the n-th working day is at most `span` days after `s`.
  const auto later_holidays = static_cast<DayNumber>(
      weekday_holidays_.end() -
      std::upper_bound(weekday_holidays_.begin(), weekday_holidays_.end(), s));
  const DayNumber span = 7 * ((n + later_holidays) / 5 + 1);
  // Binary search for the first day whose count reaches n: the count grows by one exactly on
  // working days, so that day is the n-th working day.
  DayNumber lo = s;         // CountBetween(s, lo) < n
  DayNumber hi = s + span;  // CountBetween(s, hi) >= n
  while (hi - lo > 1) {
    const DayNumber mid = lo + (hi - lo) / 2;
    if (CountBetween(s, mid) >= n) {
      hi = mid;
    } else {
      lo = mid;
    }
  }
  return FromDayNumber(hi);
}

bool WorkingCalendar::Covers(int year) const {
  return std::binary_search(covered_years_.begin(), covered_years_.end(), year);
}

}  // namespace kyso
