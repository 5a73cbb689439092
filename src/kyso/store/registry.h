#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "kyso/base/bytes.h"
#include "kyso/base/clock.h"
#include "kyso/base/status.h"

namespace kyso::store {

// Records of the registration workflow (the `ra` module decides; the store keeps). Every
// write below also appends an audit event in the same transaction.

struct Agency {
  std::string code;
  std::string parent_code;  // empty for a root
  std::string name;
  std::string kind;  // ubnd_tinh, so_ban_nganh, phong_ban, ...
  bool legal_entity = false;
  std::string email_domain;
  std::string exchange_code;
};

struct User {
  std::string name;
  std::string role;         // provider, authority, focal, subscriber, auditor, admin
  std::string agency_code;  // for focal persons (and subscribers)
  std::string password_hash;  // Argon2id, PHC string
};

struct Subscriber {
  int64_t id = 0;
  std::string kind;         // individual, organization, device
  std::string agency_code;  // the managing agency (R3.6)
  std::string workplace_code;  // where the person works; may equal agency_code
  std::string name;
  std::string email;
  std::string data;  // the form's fields, JSON
};

struct RequestRecord {
  int64_t id = 0;
  std::string kind;   // new-individual, ..., handover, lost
  std::string state;  // submitted, approved, rejected, fulfilled, closed, cancelled
  std::string route;  // provider | authority
  std::string exchange_code;
  std::string agency_code;  // the managing agency that filed it
  std::string filed_by;
  Time filed_at{};
  std::string due_date;  // ISO date, working days per R14.1
  std::string decided_by;
  std::optional<Time> decided_at;
  std::string reason;         // rejection or revocation reason
  std::string target_serial;  // renew, change, revoke, handover
  std::string payload;        // JSON: rows, fields
  std::optional<int64_t> parent_request;
  std::vector<std::string> certificate_serials;  // filled on fulfilment
};

struct RequestFilter {
  std::optional<std::string> state;
  std::optional<std::string> kind;
  std::optional<std::string> target_serial;
  std::vector<std::string> agency_codes;  // empty: all
  std::optional<std::string> due_before;  // ISO date: overdue when due_date < this
  std::optional<int64_t> before_id;       // page by id, newest first
  std::size_t limit = 100;
};

// Lineage of a certificate for R10.1: how it came to be and whether its line was renewed.
struct Lineage {
  std::string serial;
  int64_t subscriber_id = 0;
  std::string origin;  // new, renewal, change
  std::string parent_serial;
  bool renewed = false;  // this certificate or an ancestor came from a renewal
  int64_t request_id = 0;
};

struct Attachment {
  std::string name;
  std::string sha256_hex;
  std::string content;
};

// Device is a key storage device of the inventory: a USB PKI Token or a SIM PKI. The `ra`
// module owns its state machine; the store keeps it and refuses a change made from a state
// the device is no longer in.
struct Device {
  std::string serial;  // PKI Token: CK_TOKEN_INFO.serialNumber; SIM PKI: the phone number
  std::string type;    // token | sim
  std::string model;
  std::string manufacturer;
  std::string token_label;
  std::string phone;
  std::string operator_name;
  std::string state;  // in_stock, personalised, handed_over, locked, returned_to_agency,
                      // returned_to_provider, lost, damaged
  std::optional<int64_t> holder_id;  // the subscriber
  std::string holder_name;           // read only: the subscriber's name
  std::string agency_code;           // the managing agency
  std::string certificate_serial;
  std::optional<int64_t> request_id;  // the request that personalised it
  Bytes so_pin_wrapped;  // the token's SO PIN, wrapped by the CA token's key; never shown
  std::string pin_state = "ok";  // last seen: ok, count_low, final_try, locked
  Time updated_at{};
};

// DeviceEvent is one transition of a device, with the fields of the record it makes: the
// handover record (Mẫu 08) or the loss record (Mẫu 09), or none.
struct DeviceEvent {
  int64_t id = 0;
  std::string serial;
  Time at{};
  std::string actor;
  std::string from_state;  // empty when the device enters the inventory
  std::string to_state;
  std::string form;  // mau08, mau09 or empty
  std::string certificate_serial;
  std::string holder;
  std::string agency_code;
  std::string date;  // ISO date of the handover or loss
  std::string receiver;
  std::string reason;
  std::optional<int64_t> request_id;
  std::string extra;  // JSON object: other --field values
};

// DeviceChange saves a device and its event together. With `expected_state` unset the device
// is new (kAlreadyExists if its serial is known); otherwise it must still be in that state
// (kFailedPrecondition, nothing changed, if another officer moved it meanwhile).
struct DeviceChange {
  Device device;
  std::optional<std::string> expected_state;
  DeviceEvent event;
  // clears_pending_so_pin names a token label whose pending SO PIN (Store::PutPendingSoPin)
  // this device now holds: it is removed in the same transaction.
  std::string clears_pending_so_pin;
};

struct DeviceFilter {
  std::optional<std::string> state;
  std::vector<std::string> agency_codes;  // empty: all
  std::optional<std::string> certificate_serial;
  std::size_t limit = 10000;
};

}  // namespace kyso::store
