#include "kyso/base/calendar.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <vector>

#include "kyso/base/clock.h"
#include "kyso/base/status.h"

namespace kyso {
namespace {

Date D(int y, unsigned m, unsigned d) {
  return Date{std::chrono::year(y), std::chrono::month(m), std::chrono::day(d)};
}

// Due gives AddWorkingDays as ISO text, so failures print readably.
std::string Due(const WorkingCalendar& cal, Date start, int n) {
  return FormatDate(cal.AddWorkingDays(start, n));
}

Date NextDay(Date d) { return Date(std::chrono::sys_days(d) + std::chrono::days(1)); }

// NaiveIsWorkingDay is the definition, written independently of the calendar's arithmetic.
bool NaiveIsWorkingDay(Date d) {
  const auto& off = WorkingCalendar::VietnamHolidays2026And2027();
  const auto& makeup = WorkingCalendar::VietnamMakeupWorkingDays2026And2027();
  if (std::find(off.begin(), off.end(), d) != off.end()) {
    return false;
  }
  if (std::find(makeup.begin(), makeup.end(), d) != makeup.end()) {
    return true;
  }
  const std::chrono::weekday w{std::chrono::sys_days(d)};
  return w != std::chrono::Saturday && w != std::chrono::Sunday;
}

TEST(WorkingCalendarTest, R14_1_SkipsWeekends) {
  const WorkingCalendar cal({});
  EXPECT_TRUE(cal.IsWorkingDay(D(2026, 3, 6)));         // Friday
  EXPECT_FALSE(cal.IsWorkingDay(D(2026, 3, 7)));        // Saturday
  EXPECT_FALSE(cal.IsWorkingDay(D(2026, 3, 8)));        // Sunday
  EXPECT_TRUE(cal.IsWorkingDay(D(2026, 3, 9)));         // Monday
  EXPECT_EQ(Due(cal, D(2026, 3, 4), 3), "2026-03-09");  // Wed + 3: Thu, Fri, Mon
}

TEST(WorkingCalendarTest, R14_1_FridayPlusOneIsMonday) {
  const WorkingCalendar cal = WorkingCalendar::VietnamDefault();
  EXPECT_EQ(Due(cal, D(2026, 3, 6), 1), "2026-03-09");
}

TEST(WorkingCalendarTest, R14_1_ZeroDaysOnSundayIsMonday) {
  const WorkingCalendar cal = WorkingCalendar::VietnamDefault();
  EXPECT_EQ(Due(cal, D(2026, 3, 8), 0), "2026-03-09");   // Sunday
  EXPECT_EQ(Due(cal, D(2026, 3, 9), 0), "2026-03-09");   // Monday, a working day
  EXPECT_EQ(Due(cal, D(2026, 2, 14), 0), "2026-02-23");  // Saturday before Tết
}

TEST(WorkingCalendarTest, R14_1_SkipsTet2026) {
  const WorkingCalendar cal = WorkingCalendar::VietnamDefault();
  for (unsigned day = 14; day <= 22; ++day) {
    EXPECT_FALSE(cal.IsWorkingDay(D(2026, 2, day))) << day;
  }
  EXPECT_TRUE(cal.IsWorkingDay(D(2026, 2, 13)));
  EXPECT_TRUE(cal.IsWorkingDay(D(2026, 2, 23)));
  // New certificate, 3 working days (R14.1), filed Thursday 12/2: Fri 13, Mon 23, Tue 24.
  EXPECT_EQ(Due(cal, D(2026, 2, 12), 3), "2026-02-24");
}

TEST(WorkingCalendarTest, R14_1_SkipsTet2027) {
  const WorkingCalendar cal = WorkingCalendar::VietnamDefault();
  for (unsigned day = 5; day <= 11; ++day) {
    EXPECT_FALSE(cal.IsWorkingDay(D(2027, 2, day))) << day;
  }
  EXPECT_TRUE(cal.IsWorkingDay(D(2027, 2, 4)));
  EXPECT_EQ(Due(cal, D(2027, 2, 4), 1), "2027-02-12");
}

TEST(WorkingCalendarTest, R14_1_CompensatoryDays) {
  const WorkingCalendar cal = WorkingCalendar::VietnamDefault();
  EXPECT_FALSE(cal.IsWorkingDay(D(2026, 4, 27)));  // Hùng Kings on Sunday 26/4
  EXPECT_FALSE(cal.IsWorkingDay(D(2027, 5, 3)));   // Labour Day on Saturday 1/5
  EXPECT_EQ(Due(cal, D(2026, 4, 24), 1), "2026-04-28");
}

TEST(WorkingCalendarTest, R14_1_SwappedDaysOff2026) {
  const WorkingCalendar cal = WorkingCalendar::VietnamDefault();
  EXPECT_FALSE(cal.IsWorkingDay(D(2026, 1, 2)));   // Friday off...
  EXPECT_TRUE(cal.IsWorkingDay(D(2026, 1, 10)));   // ...made up on Saturday 10/1
  EXPECT_FALSE(cal.IsWorkingDay(D(2026, 8, 31)));  // Monday off...
  EXPECT_TRUE(cal.IsWorkingDay(D(2026, 8, 22)));   // ...made up on Saturday 22/8
  EXPECT_FALSE(cal.IsWorkingDay(D(2026, 8, 23)));  // the Sunday stays a rest day
  EXPECT_EQ(Due(cal, D(2026, 8, 21), 1), "2026-08-22");
  EXPECT_EQ(Due(cal, D(2026, 8, 28), 1), "2026-09-03");  // over 31/8, 1/9, 2/9
  // The same holidays without the make-up list skip the Saturday.
  const WorkingCalendar holidays_only(WorkingCalendar::VietnamHolidays2026And2027());
  EXPECT_FALSE(holidays_only.IsWorkingDay(D(2026, 8, 22)));
  EXPECT_EQ(Due(holidays_only, D(2026, 8, 21), 1), "2026-08-24");
}

TEST(WorkingCalendarTest, R14_1_MakeupListIgnoresWeekdaysAndHolidays) {
  // A weekday in the make-up list changes nothing; a date in both lists is a day off.
  const WorkingCalendar cal({D(2026, 3, 9), D(2026, 3, 14)}, {D(2026, 3, 10), D(2026, 3, 14)});
  EXPECT_FALSE(cal.IsWorkingDay(D(2026, 3, 9)));
  EXPECT_TRUE(cal.IsWorkingDay(D(2026, 3, 10)));
  EXPECT_FALSE(cal.IsWorkingDay(D(2026, 3, 14)));
  EXPECT_EQ(cal.WorkingDaysBetween(D(2026, 3, 8), D(2026, 3, 15)), 4);
}

TEST(WorkingCalendarTest, R12_3_FiveWorkingDaysAcrossReunificationDay) {
  const WorkingCalendar cal = WorkingCalendar::VietnamDefault();
  // Revocation notice Tuesday 28/4/2026: Wed 29/4, then 30/4, 1/5 and the weekend are
  // skipped: Mon 4/5, Tue 5/5, Wed 6/5, Thu 7/5.
  EXPECT_EQ(Due(cal, D(2026, 4, 28), 5), "2026-05-07");
}

TEST(WorkingCalendarTest, R13_2_OneWorkingDay) {
  const WorkingCalendar cal = WorkingCalendar::VietnamDefault();
  EXPECT_EQ(Due(cal, D(2026, 11, 24), 1), "2026-11-25");  // Tue -> Wed
  EXPECT_EQ(Due(cal, D(2026, 4, 29), 1), "2026-05-04");   // Wed -> over 30/4, 1/5, weekend
  EXPECT_EQ(Due(cal, D(2026, 12, 31), 1), "2027-01-04");  // Thu -> over New Year, weekend
}

TEST(WorkingCalendarTest, R14_1_WorkingDaysBetween) {
  const WorkingCalendar cal = WorkingCalendar::VietnamDefault();
  EXPECT_EQ(cal.WorkingDaysBetween(D(2026, 4, 28), D(2026, 5, 7)), 5);
  EXPECT_EQ(cal.WorkingDaysBetween(D(2026, 3, 6), D(2026, 3, 9)), 1);    // Fri to Mon
  EXPECT_EQ(cal.WorkingDaysBetween(D(2026, 3, 9), D(2026, 3, 9)), 0);    // empty
  EXPECT_EQ(cal.WorkingDaysBetween(D(2026, 3, 9), D(2026, 3, 2)), 0);    // reversed
  EXPECT_EQ(cal.WorkingDaysBetween(D(2026, 2, 13), D(2026, 2, 22)), 0);  // Tết
  // 2026 has 261 weekdays, 13 weekday days off and 2 make-up Saturdays.
  EXPECT_EQ(cal.WorkingDaysBetween(D(2025, 12, 31), D(2026, 12, 31)), 261 - 13 + 2);
  // 2027 has 261 weekdays and 11 weekday days off.
  EXPECT_EQ(cal.WorkingDaysBetween(D(2026, 12, 31), D(2027, 12, 31)), 261 - 11);
}

TEST(WorkingCalendarTest, R14_1_AgreesWithDayByDayCount) {
  const WorkingCalendar cal = WorkingCalendar::VietnamDefault();
  std::vector<Date> days;
  for (Date d = D(2025, 12, 1); d <= D(2028, 1, 31); d = NextDay(d)) {
    days.push_back(d);
    ASSERT_EQ(cal.IsWorkingDay(d), NaiveIsWorkingDay(d)) << FormatDate(d);
  }
  for (std::size_t i = 0; i + 60 < days.size(); ++i) {
    int count = 0;
    for (std::size_t j = i + 1; j < i + 60; ++j) {
      if (NaiveIsWorkingDay(days[j])) {
        ++count;
        ASSERT_EQ(cal.AddWorkingDays(days[i], count), days[j]) << FormatDate(days[i]);
      }
      ASSERT_EQ(cal.WorkingDaysBetween(days[i], days[j]), count) << FormatDate(days[i]);
    }
  }
}

TEST(WorkingCalendarTest, R14_1_LargeNIsFastAndConsistent) {
  const WorkingCalendar cal = WorkingCalendar::VietnamDefault();
  const Date start = D(2026, 1, 1);
  const Date due = cal.AddWorkingDays(start, WorkingCalendar::kMaxWorkingDays);
  EXPECT_EQ(cal.WorkingDaysBetween(start, due), WorkingCalendar::kMaxWorkingDays);
  EXPECT_TRUE(cal.IsWorkingDay(due));
  // Outside the data only weekends are skipped: 5 working days a week.
  EXPECT_EQ(Due(cal, D(2030, 1, 7), 500), "2031-12-08");  // Monday + 100 weeks
}

TEST(WorkingCalendarTest, R14_1_DuplicatesAndOrderIgnored) {
  const WorkingCalendar a({D(2026, 5, 1), D(2026, 4, 30), D(2026, 5, 1)});
  const WorkingCalendar b({D(2026, 4, 30), D(2026, 5, 1)});
  // Sunday 26/4 to Sunday 3/5: five weekdays, two of them off.
  EXPECT_EQ(a.WorkingDaysBetween(D(2026, 4, 26), D(2026, 5, 3)), 3);
  EXPECT_EQ(b.WorkingDaysBetween(D(2026, 4, 26), D(2026, 5, 3)), 3);
  EXPECT_EQ(FormatDate(a.AddWorkingDays(D(2026, 4, 29), 1)), "2026-05-04");
}

TEST(WorkingCalendarTest, R14_1_Covers) {
  const WorkingCalendar cal = WorkingCalendar::VietnamDefault();
  EXPECT_FALSE(cal.Covers(2025));
  EXPECT_TRUE(cal.Covers(2026));
  EXPECT_TRUE(cal.Covers(2027));
  EXPECT_FALSE(cal.Covers(2028));
  EXPECT_FALSE(WorkingCalendar({}).Covers(2026));
}

TEST(WorkingCalendarTest, R14_1_HolidayTableIsWellFormed) {
  const auto& holidays = WorkingCalendar::VietnamHolidays2026And2027();
  EXPECT_EQ(holidays.size(), 24u);
  for (const Date d : holidays) {
    EXPECT_TRUE(d.ok());
    const std::chrono::weekday w{std::chrono::sys_days(d)};
    EXPECT_NE(w, std::chrono::Saturday) << FormatDate(d);
    EXPECT_NE(w, std::chrono::Sunday) << FormatDate(d);
  }
  for (const Date d : WorkingCalendar::VietnamMakeupWorkingDays2026And2027()) {
    EXPECT_EQ(std::chrono::weekday{std::chrono::sys_days(d)}, std::chrono::Saturday);
  }
  // The lunar facts the table rests on.
  EXPECT_EQ(std::chrono::weekday{std::chrono::sys_days(D(2026, 4, 26))}, std::chrono::Sunday);
  EXPECT_EQ(std::chrono::weekday{std::chrono::sys_days(D(2027, 2, 6))}, std::chrono::Saturday);
  EXPECT_EQ(std::chrono::weekday{std::chrono::sys_days(D(2027, 4, 16))}, std::chrono::Friday);
}

TEST(CalendarTest, R14_1_LocalDateIsVietnamTime) {
  EXPECT_EQ(FormatDateVn(LocalDate(Utc(2026, 11, 24, 17, 30))), "25/11/2026");
  EXPECT_EQ(FormatDateVn(LocalDate(Utc(2026, 11, 24, 16, 59, 59))), "24/11/2026");
  EXPECT_EQ(FormatDateVn(LocalDate(Utc(2026, 11, 24, 17, 0, 0))), "25/11/2026");
  EXPECT_EQ(FormatDate(LocalDate(Utc(2026, 12, 31, 18))), "2027-01-01");
}

TEST(CalendarTest, ParsesAndFormatsIso) {
  const Result<Date> d = ParseDate("2026-11-25");
  ASSERT_TRUE(d.ok());
  EXPECT_EQ(*d, D(2026, 11, 25));
  EXPECT_EQ(FormatDate(*d), "2026-11-25");
  EXPECT_EQ(FormatDate(D(987, 1, 2)), "0987-01-02");
  EXPECT_TRUE(ParseDate("2028-02-29").ok());
  for (const char* bad :
       {"2027-02-29", "2026-02-31", "2026-13-01", "2026-00-10", "2026-01-00", "2026-1-05",
        "26-01-05", "2026/01/05", " 2026-01-05", "2026-01-05 ", "2026-01-05-", "+2026-01-05",
        "2026--1-05", "2026-0a-05", "", "-", "--", "25/11/2026"}) {
    const Result<Date> r = ParseDate(bad);
    ASSERT_FALSE(r.ok()) << bad;
    EXPECT_EQ(r.status().code(), Code::kInvalidArgument) << bad;
  }
}

TEST(CalendarTest, ParsesAndFormatsVietnamese) {
  const Result<Date> d = ParseDateVn("25/11/2026");
  ASSERT_TRUE(d.ok());
  EXPECT_EQ(*d, D(2026, 11, 25));
  EXPECT_EQ(FormatDateVn(*d), "25/11/2026");
  EXPECT_EQ(FormatDateVn(D(2026, 1, 5)), "05/01/2026");
  EXPECT_EQ(*ParseDateVn("5/1/2026"), D(2026, 1, 5));
  EXPECT_EQ(*ParseDateVn("29/02/2028"), D(2028, 2, 29));
  for (const char* bad :
       {"29/02/2027", "31/02/2026", "31/04/2026", "00/01/2026", "01/13/2026", "1/1/26",
        "001/01/2026", "01/01/02026", "01-01-2026", "2026-01-01", "01/01/2026/", "/01/2026",
        "a1/01/2026", "01/01/2026 ", "-1/01/2026", "", "//", "junk"}) {
    const Result<Date> r = ParseDateVn(bad);
    ASSERT_FALSE(r.ok()) << bad;
    EXPECT_EQ(r.status().code(), Code::kInvalidArgument) << bad;
  }
}

}  // namespace
}  // namespace kyso
