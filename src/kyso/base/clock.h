#pragma once

#include <atomic>
#include <chrono>
#include <string>

namespace kyso {

using Time = std::chrono::sys_seconds;

// Clock is the only source of "now" in kyso, so tests can fix time.
class Clock {
 public:
  virtual ~Clock() = default;
  virtual Time Now() const = 0;
};

class SystemClock final : public Clock {
 public:
  Time Now() const override;
};

// FakeClock is a settable clock for tests.
class FakeClock final : public Clock {
 public:
  explicit FakeClock(Time now) : now_(now.time_since_epoch().count()) {}
  Time Now() const override { return Time(std::chrono::seconds(now_.load())); }
  void Set(Time t) { now_ = t.time_since_epoch().count(); }
  void Advance(std::chrono::seconds d) { now_ += d.count(); }

 private:
  std::atomic<long long> now_;
};

// Utc builds a time from a UTC calendar date and time of day.
Time Utc(int year, unsigned month, unsigned day, int hour = 0, int minute = 0, int second = 0);

// FormatIso8601Utc gives "2026-11-25T07:03:09Z".
std::string FormatIso8601Utc(Time t);

// AddYears adds calendar years; 29 February maps to 28 February in a non-leap year.
Time AddYears(Time t, int years);

}  // namespace kyso
