#include "kyso/base/clock.h"

#include <cstdio>

namespace kyso {

Time SystemClock::Now() const {
  return std::chrono::time_point_cast<std::chrono::seconds>(std::chrono::system_clock::now());
}

Time Utc(int year, unsigned month, unsigned day, int hour, int minute, int second) {
  using namespace std::chrono;
  const sys_days d = year_month_day(std::chrono::year(year), std::chrono::month(month),
                                    std::chrono::day(day));
  return d + hours(hour) + minutes(minute) + seconds(second);
}

std::string FormatIso8601Utc(Time t) {
  using namespace std::chrono;
  const sys_days day = floor<days>(t);
  const year_month_day ymd(day);
  const hh_mm_ss hms(t - day);
  char buf[64];
  std::snprintf(buf, sizeof(buf), "%04d-%02u-%02uT%02ld:%02ld:%02lldZ", int(ymd.year()),
                unsigned(ymd.month()), unsigned(ymd.day()), long(hms.hours().count()),
                long(hms.minutes().count()), static_cast<long long>(hms.seconds().count()));
  return buf;
}

Time AddYears(Time t, int years) {
  using namespace std::chrono;
  const sys_days day = floor<days>(t);
  year_month_day ymd(day);
  ymd += std::chrono::years(years);
  if (!ymd.ok()) {  // 29 February of a non-leap year
    ymd = year_month_day(ymd.year(), ymd.month(), std::chrono::day(28));
  }
  return sys_days(ymd) + (t - day);
}

}  // namespace kyso
