#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "kyso/base/bytes.h"
#include "kyso/base/clock.h"
#include "kyso/base/status.h"
#include "kyso/pkix/crl.h"
#include "kyso/store/registry.h"

namespace kyso::store {

// The store keeps kyso's records. Every state change it makes also appends an audit event
// in the same transaction (DESIGN decision 5), so a record and its audit trail commit or fail
// together. Implementations are thread-safe and safe for several processes on one database.

enum class CertState { kPending, kIssued, kFailed };
std::string_view CertStateName(CertState s);

struct CaKey {
  std::string role;       // "root", "issuing", "ocsp"
  std::string key_label;  // label of the private key on the token
  Bytes cert_der;
};

// PendingIssuance is a certificate recorded before signing (DESIGN decision 3).
struct PendingIssuance {
  std::string serial_hex;
  std::string issuer;   // "root" or "issuing"
  std::string profile;  // "individual", "organization", "device", "ca", "ocsp"
  std::string subject;  // RFC 2253, UTF-8
  Time not_before;
  Time not_after;
  Bytes tbs_der;
};

struct IssuedCertificate {
  std::string serial_hex;
  Bytes cert_der;
};

struct CertificateRecord {
  std::string serial_hex;
  std::string issuer;
  std::string profile;
  std::string subject;
  Time not_before;
  Time not_after;
  CertState state = CertState::kPending;
  Bytes tbs_der;
  Bytes cert_der;  // empty unless issued
  std::optional<Time> revoked_at;
  pkix::CrlReason reason = pkix::CrlReason::kUnspecified;
};

struct CrlRecord {
  std::string issuer;
  int64_t number = 0;
  Time this_update;
  Time next_update;
  Bytes der;
};

struct StatusChange {
  int64_t seq = 0;
  std::string serial_hex;
};

struct AuditEvent {
  std::string actor;   // user name, or "console" for the operator at the deployment's console
  std::string action;  // "cert.issue", "cert.revoke", ...
  std::string object;  // what it acted on: a serial, a CRL number, a request id
  std::string payload;  // JSON text
};

struct AuditCheckpoint {
  int64_t last_event_id = 0;
  Bytes head_hash;
  std::string at;
  std::string key_label;
  Bytes signature;  // over CheckpointMessage(last_event_id, head_hash)
};

// Fulfilment is what a fulfilled request leaves: for each certificate, its subscriber (new
// ones are inserted and get their id) and its lineage.
struct FulfilledCertificate {
  Subscriber subscriber;
  bool update_subscriber = false;  // a change of information rewrites the subscriber's data
  Lineage lineage;
};

struct Fulfilment {
  int64_t request_id = 0;
  std::vector<FulfilledCertificate> certificates;
  // complete is false while some rows of a request still wait for their device: the
  // certificates are linked and the request stays approved.
  bool complete = true;
  // certificates_before, when set, is how many certificates the request must already have:
  // the row being fulfilled is the next one, and no one else took it.
  std::optional<std::size_t> certificates_before;
  // device, when set, is the device the certificate was enrolled on, saved in the same
  // transaction.
  std::optional<DeviceChange> device;
};

struct AuditEventHash {
  int64_t id = 0;
  Bytes hash;
  std::string action;
  std::string object;
};

struct AuditReport {
  int64_t events = 0;
  std::optional<int64_t> first_bad_id;  // set when the chain is broken
  std::string problem;                  // why, when broken
};

class Store {
 public:
  virtual ~Store() = default;

  // PutCaKey stores or replaces the certificate and key label of a CA role.
  virtual Status PutCaKey(const CaKey& key, const AuditEvent& event) = 0;
  virtual Result<CaKey> GetCaKey(std::string_view role) = 0;

  // RecordIssuances durably records certificates about to be signed. Serials are unique by
  // constraint: a duplicate fails the whole batch with kAlreadyExists.
  virtual Status RecordIssuances(std::span<const PendingIssuance> pending, std::string_view actor) = 0;
  // CompleteIssuances stores signed certificates of recorded serials and marks them issued.
  // A serial that another process completed meanwhile (crash recovery racing a slow signer)
  // keeps its stored certificate, which replaces the entry's cert_der, so every caller hands
  // out the one certificate the store holds. Returns how many it completed itself.
  virtual Result<int> CompleteIssuances(std::span<IssuedCertificate> issued, Time at,
                                        std::string_view actor) = 0;
  virtual Status FailIssuance(std::string_view serial_hex, std::string_view why,
                              std::string_view actor) = 0;
  virtual Result<std::vector<CertificateRecord>> ListPending() = 0;

  virtual Result<CertificateRecord> GetCertificate(std::string_view serial_hex) = 0;
  virtual Result<int64_t> CountCertificates(CertState state) = 0;

  // Revoke marks an issued certificate revoked. kNotFound for an unknown serial,
  // kFailedPrecondition when it is already revoked or was never issued.
  // `case_name` is the reason as asked (an R12.1 case or RFC 5280 name), kept in the audit.
  virtual Status Revoke(std::string_view serial_hex, Time at, pkix::CrlReason reason,
                        std::string_view case_name, std::string_view actor) = 0;
  // ListRevoked gives the revoked, unexpired-or-not certificates of an issuer in serial order.
  virtual Result<std::vector<pkix::RevokedEntry>> ListRevoked(std::string_view issuer) = 0;

  virtual Result<int64_t> NextCrlNumber(std::string_view issuer) = 0;
  virtual Status PutCrl(const CrlRecord& crl, std::string_view actor) = 0;
  virtual Result<std::optional<CrlRecord>> LatestCrl(std::string_view issuer) = 0;
  // LatestCrlNumber is 0 when the issuer has no CRL yet; cheap, for change polling.
  virtual Result<int64_t> LatestCrlNumber(std::string_view issuer) = 0;

  // StatusChangesSince gives revocations committed after `seq`, by any process, in order.
  virtual Result<std::vector<StatusChange>> StatusChangesSince(int64_t seq) = 0;
  virtual Result<int64_t> LastStatusChange() = 0;

  // --- registration workflow ---
  virtual Status UpsertAgencies(std::span<const Agency> agencies, std::string_view actor) = 0;
  virtual Result<std::vector<Agency>> ListAgencies() = 0;
  virtual Status PutUser(const User& user, std::string_view actor) = 0;
  virtual Result<User> GetUser(std::string_view name) = 0;
  virtual Result<Subscriber> GetSubscriber(int64_t id) = 0;

  // InsertRequests files requests (state as given) with their attachments; ids are set.
  virtual Status InsertRequests(std::span<RequestRecord> requests,
                                std::span<const Attachment> attachments, std::string_view actor) = 0;
  virtual Result<RequestRecord> GetRequest(int64_t id) = 0;
  virtual Result<std::vector<RequestRecord>> ListRequests(const RequestFilter& filter) = 0;
  // TransitionRequests moves requests from `from` to `to` state, recording the decision;
  // kFailedPrecondition (nothing changed) if any is no longer in `from`.
  virtual Status TransitionRequests(std::span<const int64_t> ids, std::string_view from,
                                    std::string_view to, std::string_view decided_by,
                                    std::string_view reason, std::string_view actor) = 0;
  // Fulfil marks approved requests fulfilled with the certificates they produced.
  virtual Status Fulfil(int64_t request_id, std::span<FulfilledCertificate> certificates,
                        std::string_view actor) = 0;
  // FulfilMany fulfils many approved requests in one transaction.
  virtual Status FulfilMany(std::span<Fulfilment> items, std::string_view actor) = 0;
  virtual Result<Lineage> GetLineage(std::string_view serial) = 0;
  // WasRenewed: a renewal's certificate names `serial` as its parent (R10.1).
  virtual Result<bool> WasRenewed(std::string_view serial) = 0;

  // --- key storage devices ---
  virtual Status SaveDevice(const DeviceChange& change, std::string_view actor) = 0;
  virtual Result<Device> GetDevice(std::string_view serial) = 0;
  virtual Result<std::vector<Device>> ListDevices(const DeviceFilter& filter) = 0;
  // PutPendingSoPin keeps the wrapped SO PIN a token is about to get, before the token is
  // changed, so a crash in between cannot lose it (kAlreadyExists if the label has one).
  // GetPendingSoPin reads it back; a DeviceChange naming the label removes it.
  virtual Status PutPendingSoPin(std::string_view token_label, ByteSpan wrapped,
                                 std::string_view actor) = 0;
  virtual Result<std::optional<Bytes>> GetPendingSoPin(std::string_view token_label) = 0;
  // DropPendingSoPin forgets it, when the token refused the change and never got it.
  virtual Status DropPendingSoPin(std::string_view token_label, std::string_view actor) = 0;
  // DeviceEvents gives a device's transitions, oldest first.
  virtual Result<std::vector<DeviceEvent>> DeviceEvents(std::string_view serial) = 0;

  virtual Status PutCheckpoint(const AuditCheckpoint& checkpoint, std::string_view actor) = 0;
  virtual Result<std::vector<AuditCheckpoint>> ListCheckpoints() = 0;
  // AuditHashes gives every event's id and stored hash, in id order.
  virtual Result<std::vector<AuditEventHash>> AuditHashes() = 0;
  // AuditHead gives the id and hash of the newest event (0 and zeros when empty).
  virtual Result<std::pair<int64_t, Bytes>> AuditHead() = 0;

  virtual Status AppendAudit(const AuditEvent& event) = 0;
  // VerifyAudit recomputes the hash chain and names the first event that does not fit.
  virtual Result<AuditReport> VerifyAudit() = 0;
};

// OpenSqliteStore opens (creating if needed) the SQLite database at `path` in WAL mode with
// foreign keys on and synchronous=FULL, and applies pending migrations.
Result<std::unique_ptr<Store>> OpenSqliteStore(const std::string& path, const Clock& clock);

}  // namespace kyso::store
