#pragma once

#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "kyso/base/clock.h"
#include "kyso/base/config.h"
#include "kyso/ra/actor.h"
#include "kyso/ra/workflow.h"
#include "kyso/store/store.h"

namespace kyso::ra {

// The states of a key storage device (PKI Token or SIM PKI), in the order of its life.
inline constexpr std::string_view kInStock = "in_stock";
inline constexpr std::string_view kPersonalised = "personalised";
inline constexpr std::string_view kHandedOver = "handed_over";
inline constexpr std::string_view kLocked = "locked";
inline constexpr std::string_view kReturnedToAgency = "returned_to_agency";
inline constexpr std::string_view kReturnedToProvider = "returned_to_provider";
inline constexpr std::string_view kLost = "lost";
inline constexpr std::string_view kDamaged = "damaged";

// Transition is one row of the device state machine: who may move a device from `from` to
// `to` by hand (`kyso device move`), and which record the move makes. Transitions that only
// kyso makes (enrolment: in_stock -> personalised; recovery: locked -> handed_over) have
// `by_hand` false and are refused to `device move`.
struct Transition {
  std::string_view from;
  std::string_view to;
  bool by_hand;
  std::vector<Role> roles;       // besides the console
  std::string_view form;         // mau08, mau09 or empty
  std::vector<std::string_view> required;  // --field keys that must be given
};

// Transitions is the whole table; everything else about device states reads it.
const std::vector<Transition>& Transitions();

// FindTransition gives the row from `from` to `to`, or a Vietnamese refusal that names the
// states it may go to instead.
Result<const Transition*> FindTransition(std::string_view from, std::string_view to);

// CheckAutomaticMove checks a move kyso makes itself (enrolment, recovery) against the table:
// staying in a state is allowed, anything else must be a row of it.
Status CheckAutomaticMove(std::string_view from, std::string_view to);

// StateLabel is the Vietnamese name of a state, for officers.
std::string_view StateLabel(std::string_view state);

// DeviceView is a device as officers see it, with its return deadline (R12.3) when its
// certificate has expired or been revoked and it is not back with the provider.
struct DeviceView {
  store::Device device;
  std::optional<std::string> return_due;  // ISO date
  bool overdue = false;
};

// Inventory keeps the devices: entering stock, moves by hand with their records (Mẫu 08,
// Mẫu 09), PIN states observed on tokens, and the return deadlines of R12.3. A refused move
// changes nothing and says why in Vietnamese.
class Inventory final {
 public:
  Inventory(const Config& config, store::Store& store, const Workflow& workflow, const Clock& clock);

  // Add enters a device into stock (the provider's or the console's act).
  Status Add(const Actor& actor, store::Device device);
  // Move moves a device by hand along the table; `fields` fill its record (date, receiver,
  // reason, request, and anything else, kept as extra).
  Status Move(const Actor& actor, std::string_view serial, std::string_view to,
              const std::map<std::string, std::string>& fields);
  // ObservePinState records the PIN state a token reports; a device in use that reports
  // locked moves to locked (R13.1), so the inventory shows what the token says.
  Status ObservePinState(const Actor& actor, std::string_view serial, std::string_view pin_state);

  Result<DeviceView> Show(const Actor& actor, std::string_view serial);
  Result<std::vector<store::DeviceEvent>> History(const Actor& actor, std::string_view serial);
  Result<std::vector<DeviceView>> List(const Actor& actor, std::optional<std::string> state,
                                       bool overdue_only);

 private:
  Status CheckCanSee(const Actor& actor, const store::Device& d) const;
  Result<DeviceView> View(store::Device d);

  const Config& config_;
  store::Store& store_;
  const Workflow& workflow_;
  const Clock& clock_;
};

}  // namespace kyso::ra
