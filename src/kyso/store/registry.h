#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <vector>

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

}  // namespace kyso::store
