#pragma once

#include <chrono>
#include <string>
#include <string_view>
#include <vector>

#include "kyso/base/clock.h"
#include "kyso/base/status.h"

namespace kyso {

// Date is a civil date with no time zone attached. In kyso it is a date in Vietnam.
using Date = std::chrono::year_month_day;

// LocalDate gives the date in Vietnam (Asia/Ho_Chi_Minh: UTC+7, no daylight saving time) at
// instant `t`. 2026-11-24T17:30:00Z is 25/11/2026 in Vietnam.
Date LocalDate(Time t);

// ParseDate reads an ISO 8601 calendar date, exactly "YYYY-MM-DD" ("2026-11-25"). It fails
// with kInvalidArgument on any other form (surrounding spaces included) and on dates that do
// not exist ("2027-02-29").
Result<Date> ParseDate(std::string_view text);

// ParseDateVn reads a date as Vietnamese forms write it, day first: "25/11/2026". Day and
// month take one or two digits ("5/1/2026" is accepted), the year exactly four. It fails with
// kInvalidArgument on any other form and on dates that do not exist ("31/02/2026").
Result<Date> ParseDateVn(std::string_view text);

// FormatDate gives "2026-11-25". `d` must be ok().
std::string FormatDate(Date d);

// FormatDateVn gives "25/11/2026" (always two-digit day and month). `d` must be ok().
std::string FormatDateVn(Date d);

// WorkingCalendar counts working days (R14.1): Monday to Friday, less the official days off,
// plus the weekend days that the government turns into working days when it swaps a day off
// ("làm bù"). It is immutable after construction and safe to share between threads.
//
// Every Date given to a member must be ok(); an invalid Date is a programming error and
// aborts (dates from outside are checked by ParseDate / ParseDateVn).
class WorkingCalendar final {
 public:
  // kMaxWorkingDays bounds `n` of AddWorkingDays: about 3,800 years, far beyond any deadline,
  // and small enough that the result stays within std::chrono::year.
  static constexpr int kMaxWorkingDays = 1'000'000;

  // WorkingCalendar takes the official days off. Each date once is expected, but duplicates
  // and any order are accepted. A day off that falls on a weekend changes nothing (the
  // compensatory day must itself be listed).
  explicit WorkingCalendar(std::vector<Date> holidays);

  // WorkingCalendar with `makeup_working_days`: weekend days that are working days because the
  // government moved a working day elsewhere (e.g. Saturday 22/8/2026 worked for Monday
  // 31/8/2026). Entries that are not Saturdays or Sundays, or that are also in `holidays`, are
  // ignored for counting; a date in both lists is a day off.
  WorkingCalendar(std::vector<Date> holidays, std::vector<Date> makeup_working_days);

  // VietnamDefault is the built-in calendar: VietnamHolidays2026And2027() and
  // VietnamMakeupWorkingDays2026And2027(). A deployment may replace it from its config.
  static WorkingCalendar VietnamDefault();

  // VietnamHolidays2026And2027 lists the official weekday days off of 2026 and 2027 for
  // agencies (Labour Code 2019 Art. 112 and the government's yearly announcements). The
  // sources and the confidence of each entry are in calendar.cc.
  static const std::vector<Date>& VietnamHolidays2026And2027();

  // VietnamMakeupWorkingDays2026And2027 lists the Saturdays announced as working days in
  // exchange for a bridging day off.
  static const std::vector<Date>& VietnamMakeupWorkingDays2026And2027();

  // IsWorkingDay tells whether agencies work on `d`.
  bool IsWorkingDay(Date d) const;

  // AddWorkingDays gives the date that is `n` working days after `start`. `start` itself is
  // not counted: filed on Friday with n = 1, a request is due on the next working day
  // (Monday, if Monday is one). n = 0 gives `start` if it is a working day, else the next
  // working day. REQUIRES: 0 <= n <= kMaxWorkingDays (aborts otherwise; callers validate
  // configured deadlines). O(log number-of-holidays).
  Date AddWorkingDays(Date start, int n) const;

  // WorkingDaysBetween counts the working days d with from < d <= to; 0 if to <= from.
  // O(log number-of-holidays).
  int WorkingDaysBetween(Date from, Date to) const;

  // Covers tells whether the calendar has holiday data for `year`, i.e. at least one day off
  // or make-up working day in it. Outside the covered years only weekends are skipped, so a
  // deadline counted there is approximate and callers should say so.
  bool Covers(int year) const;

 private:
  // Days since 1970-01-01, the unit of every count below.
  using DayNumber = std::chrono::sys_days::rep;

  // CountBetween is WorkingDaysBetween on day numbers.
  DayNumber CountBetween(DayNumber from, DayNumber to) const;

  // Sorted, unique. weekday_holidays_ holds only Monday..Friday days off, and
  // weekend_makeups_ only Saturday/Sunday working days not also off, so the count of working
  // days in a range is weekdays - weekday_holidays + weekend_makeups.
  std::vector<DayNumber> weekday_holidays_;
  std::vector<DayNumber> weekend_makeups_;
  std::vector<int> covered_years_;  // sorted, unique
};

}  // namespace kyso
