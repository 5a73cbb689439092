// SQLite implementation of store::Store: WAL mode, synchronous=FULL (a committed issuance
// survives power loss), foreign keys on, numbered migrations, and the audit hash chain.

#include <openssl/evp.h>

#include <mutex>

#include "kyso/base/secret.h"
#include "kyso/store/audit_hash.h"
#include "kyso/store/sqlite.h"
#include "kyso/store/store.h"

namespace kyso::store {

namespace {

using sqlite::Db;
using sqlite::Stmt;
using sqlite::Txn;

// Migrations are applied in order; each runs once, recorded in schema_migrations. Never edit
// a released migration: add the next one.
constexpr std::string_view kMigrations[] = {
    // 0001_init
    R"sql(
CREATE TABLE ca_keys(
  role TEXT PRIMARY KEY,
  key_label TEXT NOT NULL,
  cert_der BLOB NOT NULL);
CREATE TABLE certificates(
  serial TEXT PRIMARY KEY,
  issuer TEXT NOT NULL,
  profile TEXT NOT NULL,
  subject TEXT NOT NULL,
  not_before INTEGER NOT NULL,
  not_after INTEGER NOT NULL,
  state TEXT NOT NULL CHECK (state IN ('pending', 'issued', 'failed')),
  tbs_der BLOB NOT NULL,
  cert_der BLOB,
  recorded_at INTEGER NOT NULL,
  issued_at INTEGER,
  revoked_at INTEGER,
  revocation_reason INTEGER,
  CHECK (state = 'issued' OR revoked_at IS NULL));
CREATE INDEX certificates_pending ON certificates(state) WHERE state = 'pending';
CREATE INDEX certificates_revoked ON certificates(issuer, serial) WHERE revoked_at IS NOT NULL;
CREATE TABLE status_changes(
  seq INTEGER PRIMARY KEY AUTOINCREMENT,
  serial TEXT NOT NULL REFERENCES certificates(serial));
CREATE TABLE crl_numbers(issuer TEXT PRIMARY KEY, last INTEGER NOT NULL);
CREATE TABLE crls(
  issuer TEXT NOT NULL,
  number INTEGER NOT NULL,
  this_update INTEGER NOT NULL,
  next_update INTEGER NOT NULL,
  der BLOB NOT NULL,
  PRIMARY KEY (issuer, number));
CREATE TABLE audit_events(
  id INTEGER PRIMARY KEY,
  at TEXT NOT NULL,
  actor TEXT NOT NULL,
  action TEXT NOT NULL,
  object TEXT NOT NULL,
  payload TEXT NOT NULL,
  prev_hash BLOB NOT NULL,
  hash BLOB NOT NULL);
)sql",
    // 0002_revoked_covering_index: CRL generation reads serial, time and reason of every
    // revoked certificate; a covering index keeps that read off the wide rows (5x at 1M).
    R"sql(
DROP INDEX certificates_revoked;
CREATE INDEX certificates_revoked
  ON certificates(issuer, serial, revoked_at, revocation_reason) WHERE revoked_at IS NOT NULL;
)sql",
    // 0003_registration: the workflow of the regulation.
    R"sql(
CREATE TABLE agencies(
  code TEXT PRIMARY KEY,
  parent_code TEXT,
  name TEXT NOT NULL,
  kind TEXT NOT NULL,
  legal_entity INTEGER NOT NULL,
  email_domain TEXT NOT NULL,
  exchange_code TEXT NOT NULL);
CREATE TABLE users(
  name TEXT PRIMARY KEY,
  role TEXT NOT NULL CHECK (role IN ('provider', 'authority', 'focal', 'subscriber', 'auditor', 'admin')),
  agency_code TEXT REFERENCES agencies(code),
  password_hash TEXT NOT NULL,
  created_at INTEGER NOT NULL);
CREATE TABLE subscribers(
  id INTEGER PRIMARY KEY,
  kind TEXT NOT NULL CHECK (kind IN ('individual', 'organization', 'device')),
  agency_code TEXT NOT NULL REFERENCES agencies(code),
  workplace_code TEXT NOT NULL REFERENCES agencies(code),
  name TEXT NOT NULL,
  email TEXT NOT NULL,
  data TEXT NOT NULL,
  created_at INTEGER NOT NULL);
CREATE TABLE requests(
  id INTEGER PRIMARY KEY,
  kind TEXT NOT NULL,
  state TEXT NOT NULL CHECK (state IN ('draft', 'submitted', 'approved', 'rejected', 'fulfilled', 'closed', 'cancelled')),
  route TEXT NOT NULL CHECK (route IN ('provider', 'authority')),
  exchange_code TEXT NOT NULL,
  agency_code TEXT NOT NULL REFERENCES agencies(code),
  filed_by TEXT NOT NULL,
  filed_at INTEGER NOT NULL,
  due_date TEXT NOT NULL,
  decided_by TEXT,
  decided_at INTEGER,
  reason TEXT NOT NULL DEFAULT '',
  target_serial TEXT NOT NULL DEFAULT '',
  payload TEXT NOT NULL,
  parent_request INTEGER REFERENCES requests(id));
CREATE INDEX requests_by_agency ON requests(agency_code, id);
CREATE INDEX requests_by_state ON requests(state, id);
CREATE INDEX requests_open_due ON requests(due_date, id) WHERE state IN ('submitted', 'approved');
CREATE TABLE request_certificates(
  request_id INTEGER NOT NULL REFERENCES requests(id),
  serial TEXT NOT NULL REFERENCES certificates(serial),
  PRIMARY KEY (request_id, serial));
CREATE TABLE attachments(
  id INTEGER PRIMARY KEY,
  request_id INTEGER NOT NULL REFERENCES requests(id),
  name TEXT NOT NULL,
  sha256 TEXT NOT NULL,
  content BLOB NOT NULL);
CREATE TABLE lineage(
  serial TEXT PRIMARY KEY REFERENCES certificates(serial),
  subscriber_id INTEGER NOT NULL REFERENCES subscribers(id),
  origin TEXT NOT NULL CHECK (origin IN ('new', 'renewal', 'change')),
  parent_serial TEXT NOT NULL DEFAULT '',
  renewed INTEGER NOT NULL,
  request_id INTEGER NOT NULL REFERENCES requests(id));
CREATE TABLE audit_checkpoints(
  last_event_id INTEGER PRIMARY KEY,
  head_hash BLOB NOT NULL,
  at TEXT NOT NULL,
  key_label TEXT NOT NULL,
  signature BLOB NOT NULL);
)sql",
    // 0004_overdue_index: `request list --overdue` walks open requests newest first; this
    // partial index holds exactly those, with what the filter reads (66 ms -> 3 ms at 1M).
    R"sql(
DROP INDEX requests_open_due;
CREATE INDEX requests_open_by_id ON requests(id, due_date, agency_code)
  WHERE state IN ('submitted', 'approved');
)sql",
    // 0005_devices: the inventory of PKI Tokens and SIM PKI and every transition, with the
    // fields of the handover (Mẫu 08) and loss (Mẫu 09) records.
    R"sql(
CREATE TABLE devices(
  serial TEXT PRIMARY KEY,
  type TEXT NOT NULL CHECK (type IN ('token', 'sim')),
  model TEXT NOT NULL,
  manufacturer TEXT NOT NULL,
  token_label TEXT NOT NULL,
  phone TEXT NOT NULL,
  operator TEXT NOT NULL,
  state TEXT NOT NULL CHECK (state IN ('in_stock', 'personalised', 'handed_over', 'locked',
      'returned_to_agency', 'returned_to_provider', 'lost', 'damaged')),
  holder_id INTEGER REFERENCES subscribers(id),
  agency_code TEXT REFERENCES agencies(code),
  certificate_serial TEXT NOT NULL,
  request_id INTEGER REFERENCES requests(id),
  so_pin_wrapped BLOB,
  pin_state TEXT NOT NULL CHECK (pin_state IN ('ok', 'count_low', 'final_try', 'locked')),
  updated_at INTEGER NOT NULL);
CREATE INDEX devices_by_state ON devices(state, serial);
CREATE INDEX devices_by_certificate ON devices(certificate_serial);
CREATE TABLE device_events(
  id INTEGER PRIMARY KEY,
  serial TEXT NOT NULL REFERENCES devices(serial),
  at INTEGER NOT NULL,
  actor TEXT NOT NULL,
  from_state TEXT NOT NULL,
  to_state TEXT NOT NULL,
  form TEXT NOT NULL CHECK (form IN ('', 'mau08', 'mau09')),
  certificate_serial TEXT NOT NULL,
  holder TEXT NOT NULL,
  agency_code TEXT NOT NULL,
  date TEXT NOT NULL,
  receiver TEXT NOT NULL,
  reason TEXT NOT NULL,
  request_id INTEGER REFERENCES requests(id),
  extra TEXT NOT NULL);
CREATE INDEX device_events_by_serial ON device_events(serial, id);
)sql",
    // 0006_pending_so_pins: the SO PIN a token is about to get, kept (wrapped) before the
    // token is changed and removed with the device record that then holds it.
    R"sql(
CREATE TABLE pending_so_pins(
  token_label TEXT PRIMARY KEY,
  wrapped BLOB NOT NULL,
  at INTEGER NOT NULL,
  actor TEXT NOT NULL);
)sql",
};

constexpr std::string_view kStates[] = {"pending", "issued", "failed"};

CertState ParseState(std::string_view s) {
  if (s == "issued") return CertState::kIssued;
  if (s == "failed") return CertState::kFailed;
  return CertState::kPending;
}

int64_t Secs(Time t) { return t.time_since_epoch().count(); }
Time FromSecs(int64_t s) { return Time(std::chrono::seconds(s)); }

std::string JsonString(std::string_view s) {
  std::string out = "\"";
  for (char c : s) {
    switch (c) {
      case '"': out += "\\\""; break;
      case '\\': out += "\\\\"; break;
      case '\n': out += "\\n"; break;
      default:
        if (static_cast<unsigned char>(c) < 0x20) {
          char buf[8];
          std::snprintf(buf, sizeof(buf), "\\u%04x", c);
          out += buf;
        } else {
          out += c;
        }
    }
  }
  return out + "\"";
}

class SqliteStore final : public Store {
 public:
  SqliteStore(Db db, const Clock& clock) : db_(std::move(db)), clock_(clock) {}

  Status Init() {
    KYSO_RETURN_IF_ERROR(db_.Exec("PRAGMA journal_mode=WAL"));
    KYSO_RETURN_IF_ERROR(db_.Exec("PRAGMA synchronous=FULL"));
    KYSO_RETURN_IF_ERROR(db_.Exec("PRAGMA foreign_keys=ON"));
    KYSO_RETURN_IF_ERROR(
        db_.Exec("CREATE TABLE IF NOT EXISTS schema_migrations(version INTEGER PRIMARY KEY)"));
    KYSO_ASSIGN_OR_RETURN(Txn txn, Txn::Begin(db_));
    KYSO_ASSIGN_OR_RETURN(Stmt q, Stmt::Prepare(db_, "SELECT COALESCE(MAX(version), 0) FROM schema_migrations"));
    KYSO_RETURN_IF_ERROR(q.Step());
    const int64_t have = q.Int(0);
    q.Reset();  // an unfinished SELECT would lock the schema against the migrations
    constexpr int64_t kKnown = std::size(kMigrations);
    if (have > kKnown) {
      return FailedPreconditionError("database schema version " + std::to_string(have) +
                                     " is newer than this kyso (" + std::to_string(kKnown) + ")");
    }
    for (int64_t v = have + 1; v <= kKnown; ++v) {
      KYSO_RETURN_IF_ERROR(db_.Exec(kMigrations[v - 1]), "migration " + std::to_string(v));
      KYSO_ASSIGN_OR_RETURN(Stmt ins, Stmt::Prepare(db_, "INSERT INTO schema_migrations VALUES (?)"));
      KYSO_RETURN_IF_ERROR(ins.Bind(1, v).Run());
    }
    return txn.Commit();
  }

  Status PutCaKey(const CaKey& key, const AuditEvent& event) override {
    std::lock_guard lock(mu_);
    KYSO_ASSIGN_OR_RETURN(Txn txn, Txn::Begin(db_));
    KYSO_ASSIGN_OR_RETURN(Stmt s, Stmt::Prepare(db_,
        "INSERT INTO ca_keys VALUES (?, ?, ?) ON CONFLICT(role) DO UPDATE"
        " SET key_label = excluded.key_label, cert_der = excluded.cert_der"));
    KYSO_RETURN_IF_ERROR(s.Bind(1, key.role).Bind(2, key.key_label).Bind(3, ByteSpan(key.cert_der)).Run());
    KYSO_ASSIGN_OR_RETURN(AuditWriter audit, AuditWriter::Load(db_));
    KYSO_RETURN_IF_ERROR(audit.Append(db_, clock_.Now(), event));
    return txn.Commit();
  }

  Result<CaKey> GetCaKey(std::string_view role) override {
    std::lock_guard lock(mu_);
    KYSO_ASSIGN_OR_RETURN(Stmt s, Stmt::Prepare(db_, "SELECT key_label, cert_der FROM ca_keys WHERE role = ?"));
    s.Bind(1, role);
    KYSO_ASSIGN_OR_RETURN(bool row, s.Step());
    if (!row) return NotFoundError("no CA key for role " + std::string(role));
    return CaKey{std::string(role), s.Text(0), s.Blob(1)};
  }

  Status RecordIssuances(std::span<const PendingIssuance> pending, std::string_view actor) override {
    std::lock_guard lock(mu_);
    const Time now = clock_.Now();
    KYSO_ASSIGN_OR_RETURN(Txn txn, Txn::Begin(db_));
    KYSO_ASSIGN_OR_RETURN(Stmt s, Stmt::Prepare(db_,
        "INSERT INTO certificates(serial, issuer, profile, subject, not_before, not_after, state,"
        " tbs_der, recorded_at) VALUES (?, ?, ?, ?, ?, ?, 'pending', ?, ?)"));
    KYSO_ASSIGN_OR_RETURN(AuditWriter audit, AuditWriter::Load(db_));
    for (const PendingIssuance& p : pending) {
      KYSO_RETURN_IF_ERROR(s.Bind(1, p.serial_hex).Bind(2, p.issuer).Bind(3, p.profile)
                               .Bind(4, p.subject).Bind(5, Secs(p.not_before))
                               .Bind(6, Secs(p.not_after)).Bind(7, ByteSpan(p.tbs_der))
                               .Bind(8, Secs(now)).Run(), "record " + p.serial_hex);
      KYSO_RETURN_IF_ERROR(audit.Append(db_, now, AuditEvent{std::string(actor), "cert.record", p.serial_hex,
          "{\"issuer\":" + JsonString(p.issuer) + ",\"profile\":" + JsonString(p.profile) +
          ",\"subject\":" + JsonString(p.subject) + ",\"not_after\":" +
          JsonString(FormatIso8601Utc(p.not_after)) + "}"}));
    }
    return txn.Commit();
  }

  Result<int> CompleteIssuances(std::span<IssuedCertificate> issued, Time at,
                                std::string_view actor) override {
    std::lock_guard lock(mu_);
    KYSO_ASSIGN_OR_RETURN(Txn txn, Txn::Begin(db_));
    KYSO_ASSIGN_OR_RETURN(Stmt s, Stmt::Prepare(db_,
        "UPDATE certificates SET state = 'issued', cert_der = ?, issued_at = ?"
        " WHERE serial = ? AND state = 'pending'"));
    KYSO_ASSIGN_OR_RETURN(Stmt q, Stmt::Prepare(db_,
        "SELECT state, cert_der FROM certificates WHERE serial = ?"));
    KYSO_ASSIGN_OR_RETURN(AuditWriter audit, AuditWriter::Load(db_));
    int completed = 0;
    for (IssuedCertificate& c : issued) {
      KYSO_RETURN_IF_ERROR(s.Bind(1, ByteSpan(c.cert_der)).Bind(2, Secs(at)).Bind(3, c.serial_hex).Run());
      if (sqlite3_changes(db_.get()) == 1) {
        KYSO_RETURN_IF_ERROR(audit.Append(db_, at, AuditEvent{std::string(actor), "cert.issue", c.serial_hex, "{}"}));
        ++completed;
        continue;
      }
      q.Bind(1, c.serial_hex);
      KYSO_ASSIGN_OR_RETURN(bool row, q.Step());
      if (!row || q.Text(0) != "issued") {
        return FailedPreconditionError("certificate " + c.serial_hex + " was not recorded as pending");
      }
      c.cert_der = q.Blob(1);
      q.Reset();
    }
    KYSO_RETURN_IF_ERROR(txn.Commit());
    return completed;
  }

  Status FailIssuance(std::string_view serial, std::string_view why, std::string_view actor) override {
    std::lock_guard lock(mu_);
    KYSO_ASSIGN_OR_RETURN(Txn txn, Txn::Begin(db_));
    KYSO_ASSIGN_OR_RETURN(Stmt s, Stmt::Prepare(db_,
        "UPDATE certificates SET state = 'failed' WHERE serial = ? AND state = 'pending'"));
    KYSO_RETURN_IF_ERROR(s.Bind(1, serial).Run());
    KYSO_ASSIGN_OR_RETURN(AuditWriter audit, AuditWriter::Load(db_));
    KYSO_RETURN_IF_ERROR(audit.Append(db_, clock_.Now(), AuditEvent{std::string(actor), "cert.fail",
        std::string(serial), "{\"why\":" + JsonString(why) + "}"}));
    return txn.Commit();
  }

  Result<std::vector<CertificateRecord>> ListPending() override {
    std::lock_guard lock(mu_);
    return Query(std::string(kSelectCert) + " WHERE state = 'pending' ORDER BY recorded_at", {});
  }

  Result<CertificateRecord> GetCertificate(std::string_view serial) override {
    std::lock_guard lock(mu_);
    KYSO_ASSIGN_OR_RETURN(auto rows, Query(std::string(kSelectCert) + " WHERE serial = ?", serial));
    if (rows.empty()) return NotFoundError("no certificate with serial " + std::string(serial));
    return std::move(rows.front());
  }

  Result<int64_t> CountCertificates(CertState state) override {
    std::lock_guard lock(mu_);
    KYSO_ASSIGN_OR_RETURN(Stmt s, Stmt::Prepare(db_, "SELECT COUNT(*) FROM certificates WHERE state = ?"));
    s.Bind(1, kStates[static_cast<int>(state)]);
    KYSO_RETURN_IF_ERROR(s.Step());
    return s.Int(0);
  }

  Status Revoke(std::string_view serial, Time at, pkix::CrlReason reason, std::string_view case_name,
                std::string_view actor) override {
    std::lock_guard lock(mu_);
    KYSO_ASSIGN_OR_RETURN(Txn txn, Txn::Begin(db_));
    KYSO_ASSIGN_OR_RETURN(Stmt q, Stmt::Prepare(db_,
        "SELECT state, revoked_at IS NOT NULL FROM certificates WHERE serial = ?"));
    q.Bind(1, serial);
    KYSO_ASSIGN_OR_RETURN(bool row, q.Step());
    if (!row) return NotFoundError("no certificate with serial " + std::string(serial));
    if (q.Text(0) != "issued") {
      return FailedPreconditionError("certificate " + std::string(serial) + " was never issued");
    }
    if (q.Int(1) != 0) {
      return FailedPreconditionError("certificate " + std::string(serial) + " is already revoked");
    }
    KYSO_ASSIGN_OR_RETURN(Stmt u, Stmt::Prepare(db_,
        "UPDATE certificates SET revoked_at = ?, revocation_reason = ? WHERE serial = ?"));
    KYSO_RETURN_IF_ERROR(u.Bind(1, Secs(at)).Bind(2, static_cast<int64_t>(reason)).Bind(3, serial).Run());
    KYSO_ASSIGN_OR_RETURN(Stmt c, Stmt::Prepare(db_, "INSERT INTO status_changes(serial) VALUES (?)"));
    KYSO_RETURN_IF_ERROR(c.Bind(1, serial).Run());
    KYSO_ASSIGN_OR_RETURN(AuditWriter audit, AuditWriter::Load(db_));
    KYSO_RETURN_IF_ERROR(audit.Append(db_, clock_.Now(), AuditEvent{std::string(actor), "cert.revoke",
        std::string(serial), "{\"reason\":" + std::to_string(static_cast<int>(reason)) +
        ",\"case\":" + JsonString(case_name) +
        ",\"revoked_at\":" + JsonString(FormatIso8601Utc(at)) + "}"}));
    return txn.Commit();
  }

  Result<std::vector<pkix::RevokedEntry>> ListRevoked(std::string_view issuer) override {
    std::lock_guard lock(mu_);
    KYSO_ASSIGN_OR_RETURN(Stmt s, Stmt::Prepare(db_,
        "SELECT serial, revoked_at, revocation_reason FROM certificates"
        " WHERE issuer = ? AND revoked_at IS NOT NULL ORDER BY serial"));
    s.Bind(1, issuer);
    std::vector<pkix::RevokedEntry> out;
    for (;;) {
      KYSO_ASSIGN_OR_RETURN(bool row, s.Step());
      if (!row) break;
      KYSO_ASSIGN_OR_RETURN(Bytes serial, HexDecode(s.Text(0)));
      out.push_back({std::move(serial), FromSecs(s.Int(1)), static_cast<pkix::CrlReason>(s.Int(2))});
    }
    return out;
  }

  Result<int64_t> NextCrlNumber(std::string_view issuer) override {
    std::lock_guard lock(mu_);
    KYSO_ASSIGN_OR_RETURN(Txn txn, Txn::Begin(db_));
    KYSO_ASSIGN_OR_RETURN(Stmt s, Stmt::Prepare(db_,
        "INSERT INTO crl_numbers VALUES (?, 1) ON CONFLICT(issuer) DO UPDATE SET last = last + 1"
        " RETURNING last"));
    s.Bind(1, issuer);
    KYSO_RETURN_IF_ERROR(s.Step());
    const int64_t n = s.Int(0);
    s.Reset();
    KYSO_RETURN_IF_ERROR(txn.Commit());
    return n;
  }

  Status PutCrl(const CrlRecord& crl, std::string_view actor) override {
    std::lock_guard lock(mu_);
    KYSO_ASSIGN_OR_RETURN(Txn txn, Txn::Begin(db_));
    KYSO_ASSIGN_OR_RETURN(Stmt s, Stmt::Prepare(db_, "INSERT INTO crls VALUES (?, ?, ?, ?, ?)"));
    KYSO_RETURN_IF_ERROR(s.Bind(1, crl.issuer).Bind(2, crl.number).Bind(3, Secs(crl.this_update))
                             .Bind(4, Secs(crl.next_update)).Bind(5, ByteSpan(crl.der)).Run());
    // Keep the last few CRLs only; older ones are in the audit trail by number and time.
    KYSO_ASSIGN_OR_RETURN(Stmt d, Stmt::Prepare(db_, "DELETE FROM crls WHERE issuer = ? AND number < ?"));
    KYSO_RETURN_IF_ERROR(d.Bind(1, crl.issuer).Bind(2, crl.number - 10).Run());
    KYSO_ASSIGN_OR_RETURN(AuditWriter audit, AuditWriter::Load(db_));
    KYSO_RETURN_IF_ERROR(audit.Append(db_, clock_.Now(), AuditEvent{std::string(actor), "crl.issue",
        crl.issuer + "/" + std::to_string(crl.number),
        "{\"next_update\":" + JsonString(FormatIso8601Utc(crl.next_update)) + "}"}));
    return txn.Commit();
  }

  Result<std::optional<CrlRecord>> LatestCrl(std::string_view issuer) override {
    std::lock_guard lock(mu_);
    KYSO_ASSIGN_OR_RETURN(Stmt s, Stmt::Prepare(db_,
        "SELECT number, this_update, next_update, der FROM crls WHERE issuer = ?"
        " ORDER BY number DESC LIMIT 1"));
    s.Bind(1, issuer);
    KYSO_ASSIGN_OR_RETURN(bool row, s.Step());
    if (!row) return std::optional<CrlRecord>();
    return std::optional<CrlRecord>(CrlRecord{std::string(issuer), s.Int(0), FromSecs(s.Int(1)),
                                              FromSecs(s.Int(2)), s.Blob(3)});
  }

  Result<int64_t> LatestCrlNumber(std::string_view issuer) override {
    std::lock_guard lock(mu_);
    KYSO_ASSIGN_OR_RETURN(Stmt s, Stmt::Prepare(db_,
        "SELECT COALESCE(MAX(number), 0) FROM crls WHERE issuer = ?"));
    s.Bind(1, issuer);
    KYSO_RETURN_IF_ERROR(s.Step());
    return s.Int(0);
  }

  Result<std::vector<StatusChange>> StatusChangesSince(int64_t seq) override {
    std::lock_guard lock(mu_);
    KYSO_ASSIGN_OR_RETURN(Stmt s, Stmt::Prepare(db_,
        "SELECT seq, serial FROM status_changes WHERE seq > ? ORDER BY seq"));
    s.Bind(1, seq);
    std::vector<StatusChange> out;
    for (;;) {
      KYSO_ASSIGN_OR_RETURN(bool row, s.Step());
      if (!row) break;
      out.push_back({s.Int(0), s.Text(1)});
    }
    return out;
  }

  Result<int64_t> LastStatusChange() override {
    std::lock_guard lock(mu_);
    KYSO_ASSIGN_OR_RETURN(Stmt s, Stmt::Prepare(db_, "SELECT COALESCE(MAX(seq), 0) FROM status_changes"));
    KYSO_RETURN_IF_ERROR(s.Step());
    return s.Int(0);
  }

  Status UpsertAgencies(std::span<const Agency> agencies, std::string_view actor) override {
    std::lock_guard lock(mu_);
    KYSO_ASSIGN_OR_RETURN(Txn txn, Txn::Begin(db_));
    KYSO_ASSIGN_OR_RETURN(Stmt q, Stmt::Prepare(db_,
        "SELECT parent_code, name, kind, legal_entity, email_domain, exchange_code"
        " FROM agencies WHERE code = ?"));
    KYSO_ASSIGN_OR_RETURN(Stmt up, Stmt::Prepare(db_,
        "INSERT INTO agencies VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT(code) DO UPDATE SET"
        " parent_code = excluded.parent_code, name = excluded.name, kind = excluded.kind,"
        " legal_entity = excluded.legal_entity, email_domain = excluded.email_domain,"
        " exchange_code = excluded.exchange_code"));
    KYSO_ASSIGN_OR_RETURN(AuditWriter audit, AuditWriter::Load(db_));
    const Time now = clock_.Now();
    for (const Agency& a : agencies) {
      q.Bind(1, a.code);
      KYSO_ASSIGN_OR_RETURN(bool exists, q.Step());
      const bool same = exists && q.Text(0) == a.parent_code && q.Text(1) == a.name &&
                        q.Text(2) == a.kind && (q.Int(3) != 0) == a.legal_entity &&
                        q.Text(4) == a.email_domain && q.Text(5) == a.exchange_code;
      q.Reset();
      if (same) continue;  // re-import of unchanged data changes nothing and audits nothing
      KYSO_RETURN_IF_ERROR(up.Bind(1, a.code).Bind(2, a.parent_code).Bind(3, a.name).Bind(4, a.kind)
                               .Bind(5, int64_t{a.legal_entity}).Bind(6, a.email_domain)
                               .Bind(7, a.exchange_code).Run());
      KYSO_RETURN_IF_ERROR(audit.Append(db_, now, AuditEvent{std::string(actor),
          exists ? "agency.update" : "agency.create", a.code,
          "{\"name\":" + JsonString(a.name) + ",\"parent\":" + JsonString(a.parent_code) +
          ",\"legal_entity\":" + (a.legal_entity ? "true" : "false") + "}"}));
    }
    return txn.Commit();
  }

  Result<std::vector<Agency>> ListAgencies() override {
    std::lock_guard lock(mu_);
    KYSO_ASSIGN_OR_RETURN(Stmt s, Stmt::Prepare(db_,
        "SELECT code, parent_code, name, kind, legal_entity, email_domain, exchange_code"
        " FROM agencies ORDER BY code"));
    std::vector<Agency> out;
    for (;;) {
      KYSO_ASSIGN_OR_RETURN(bool row, s.Step());
      if (!row) break;
      out.push_back(Agency{s.Text(0), s.Text(1), s.Text(2), s.Text(3), s.Int(4) != 0, s.Text(5), s.Text(6)});
    }
    return out;
  }

  Status PutUser(const User& u, std::string_view actor) override {
    std::lock_guard lock(mu_);
    KYSO_ASSIGN_OR_RETURN(Txn txn, Txn::Begin(db_));
    KYSO_ASSIGN_OR_RETURN(Stmt s, Stmt::Prepare(db_, "INSERT INTO users VALUES (?, ?, ?, ?, ?)"));
    s.Bind(1, u.name).Bind(2, u.role).Bind(4, u.password_hash).Bind(5, Secs(clock_.Now()));
    if (u.agency_code.empty()) s.BindNull(3); else s.Bind(3, u.agency_code);
    KYSO_RETURN_IF_ERROR(s.Run(), "user " + u.name);
    KYSO_ASSIGN_OR_RETURN(AuditWriter audit, AuditWriter::Load(db_));
    KYSO_RETURN_IF_ERROR(audit.Append(db_, clock_.Now(), AuditEvent{std::string(actor), "user.create",
        u.name, "{\"role\":" + JsonString(u.role) + ",\"agency\":" + JsonString(u.agency_code) + "}"}));
    return txn.Commit();
  }

  Result<User> GetUser(std::string_view name) override {
    std::lock_guard lock(mu_);
    KYSO_ASSIGN_OR_RETURN(Stmt s, Stmt::Prepare(db_,
        "SELECT name, role, COALESCE(agency_code, ''), password_hash FROM users WHERE name = ?"));
    s.Bind(1, name);
    KYSO_ASSIGN_OR_RETURN(bool row, s.Step());
    if (!row) return NotFoundError("no user named " + std::string(name));
    return User{s.Text(0), s.Text(1), s.Text(2), s.Text(3)};
  }

  Result<Subscriber> GetSubscriber(int64_t id) override {
    std::lock_guard lock(mu_);
    KYSO_ASSIGN_OR_RETURN(Stmt s, Stmt::Prepare(db_,
        "SELECT id, kind, agency_code, workplace_code, name, email, data FROM subscribers WHERE id = ?"));
    s.Bind(1, id);
    KYSO_ASSIGN_OR_RETURN(bool row, s.Step());
    if (!row) return NotFoundError("no subscriber " + std::to_string(id));
    return Subscriber{s.Int(0), s.Text(1), s.Text(2), s.Text(3), s.Text(4), s.Text(5), s.Text(6)};
  }

  Status InsertRequests(std::span<RequestRecord> requests, std::span<const Attachment> attachments,
                        std::string_view actor) override {
    std::lock_guard lock(mu_);
    KYSO_ASSIGN_OR_RETURN(Txn txn, Txn::Begin(db_));
    KYSO_ASSIGN_OR_RETURN(Stmt ins, Stmt::Prepare(db_,
        "INSERT INTO requests(kind, state, route, exchange_code, agency_code, filed_by, filed_at,"
        " due_date, reason, target_serial, payload, parent_request)"
        " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"));
    KYSO_ASSIGN_OR_RETURN(Stmt att, Stmt::Prepare(db_,
        "INSERT INTO attachments(request_id, name, sha256, content) VALUES (?, ?, ?, ?)"));
    KYSO_ASSIGN_OR_RETURN(AuditWriter audit, AuditWriter::Load(db_));
    for (RequestRecord& r : requests) {
      ins.Bind(1, r.kind).Bind(2, r.state).Bind(3, r.route).Bind(4, r.exchange_code)
          .Bind(5, r.agency_code).Bind(6, r.filed_by).Bind(7, Secs(r.filed_at)).Bind(8, r.due_date)
          .Bind(9, r.reason).Bind(10, r.target_serial).Bind(11, r.payload);
      if (r.parent_request) ins.Bind(12, *r.parent_request); else ins.BindNull(12);
      KYSO_RETURN_IF_ERROR(ins.Run(), "file request");
      r.id = sqlite3_last_insert_rowid(db_.get());
      KYSO_RETURN_IF_ERROR(audit.Append(db_, r.filed_at, AuditEvent{std::string(actor), "request.file",
          std::to_string(r.id), "{\"kind\":" + JsonString(r.kind) + ",\"agency\":" +
          JsonString(r.agency_code) + ",\"state\":" + JsonString(r.state) + ",\"target\":" +
          JsonString(r.target_serial) + ",\"due\":" + JsonString(r.due_date) + "}"}));
    }
    if (!attachments.empty() && requests.size() == 1) {
      for (const Attachment& a : attachments) {
        KYSO_RETURN_IF_ERROR(att.Bind(1, requests[0].id).Bind(2, a.name).Bind(3, a.sha256_hex)
                                 .Bind(4, AsBytes(a.content)).Run(), "attachment");
        KYSO_RETURN_IF_ERROR(audit.Append(db_, requests[0].filed_at, AuditEvent{std::string(actor),
            "request.attach", std::to_string(requests[0].id),
            "{\"name\":" + JsonString(a.name) + ",\"sha256\":" + JsonString(a.sha256_hex) + "}"}));
      }
    }
    return txn.Commit();
  }

  Result<RequestRecord> GetRequest(int64_t id) override {
    std::lock_guard lock(mu_);
    KYSO_ASSIGN_OR_RETURN(auto rows, QueryRequests(std::string(kSelectRequest) + " WHERE id = ?", {id}, {}));
    if (rows.empty()) return NotFoundError("no request " + std::to_string(id));
    KYSO_ASSIGN_OR_RETURN(Stmt c, Stmt::Prepare(db_,
        "SELECT serial FROM request_certificates WHERE request_id = ? ORDER BY rowid"));
    c.Bind(1, id);
    for (;;) {
      KYSO_ASSIGN_OR_RETURN(bool row, c.Step());
      if (!row) break;
      rows[0].certificate_serials.push_back(c.Text(0));
    }
    return std::move(rows[0]);
  }

  Result<std::vector<RequestRecord>> ListRequests(const RequestFilter& f) override {
    std::lock_guard lock(mu_);
    // The overdue filter reads only open requests; the partial index holds just those, newest
    // first, so the page is found without sorting every open request.
    std::string sql = std::string(kSelectRequest) +
                      (f.due_before ? " INDEXED BY requests_open_by_id" : "") + " WHERE 1";
    std::vector<int64_t> ints;
    std::vector<std::string> texts;
    if (f.state) {
      sql += " AND state = ?";
      texts.push_back(*f.state);
    }
    if (f.kind) {
      sql += " AND kind = ?";
      texts.push_back(*f.kind);
    }
    if (f.target_serial) {
      sql += " AND target_serial = ?";
      texts.push_back(*f.target_serial);
    }
    if (f.due_before) {
      sql += " AND state IN ('submitted', 'approved') AND due_date < ?";
      texts.push_back(*f.due_before);
    }
    if (!f.agency_codes.empty()) {
      sql += " AND agency_code IN (";
      for (std::size_t i = 0; i < f.agency_codes.size(); ++i) {
        sql += i ? ", ?" : "?";
        texts.push_back(f.agency_codes[i]);
      }
      sql += ")";
    }
    if (f.before_id) {
      sql += " AND id < ?";
      ints.push_back(*f.before_id);
    }
    sql += " ORDER BY id DESC LIMIT " + std::to_string(std::min<std::size_t>(f.limit, 10000));
    return QueryRequests(sql, ints, texts);
  }

  Status TransitionRequests(std::span<const int64_t> ids, std::string_view from, std::string_view to,
                            std::string_view decided_by, std::string_view reason,
                            std::string_view actor) override {
    std::lock_guard lock(mu_);
    const Time now = clock_.Now();
    KYSO_ASSIGN_OR_RETURN(Txn txn, Txn::Begin(db_));
    KYSO_ASSIGN_OR_RETURN(Stmt u, Stmt::Prepare(db_,
        "UPDATE requests SET state = ?, decided_by = COALESCE(?, decided_by),"
        " decided_at = COALESCE(?, decided_at), reason = CASE WHEN ? = '' THEN reason ELSE ? END"
        " WHERE id = ? AND state = ?"));
    KYSO_ASSIGN_OR_RETURN(AuditWriter audit, AuditWriter::Load(db_));
    for (int64_t id : ids) {
      u.Bind(1, to);
      if (decided_by.empty()) {
        u.BindNull(2).BindNull(3);
      } else {
        u.Bind(2, decided_by).Bind(3, Secs(now));
      }
      KYSO_RETURN_IF_ERROR(u.Bind(4, reason).Bind(5, reason).Bind(6, id).Bind(7, from).Run());
      if (sqlite3_changes(db_.get()) != 1) {
        return FailedPreconditionError("request " + std::to_string(id) + " is not " + std::string(from));
      }
      KYSO_RETURN_IF_ERROR(audit.Append(db_, now, AuditEvent{std::string(actor), "request." + std::string(to),
          std::to_string(id), "{\"from\":" + JsonString(from) + ",\"reason\":" + JsonString(reason) + "}"}));
    }
    return txn.Commit();
  }

  Status Fulfil(int64_t request_id, std::span<FulfilledCertificate> certs, std::string_view actor) override {
    Fulfilment item{request_id, std::vector<FulfilledCertificate>(certs.begin(), certs.end())};
    KYSO_RETURN_IF_ERROR(FulfilMany(std::span(&item, 1), actor));
    std::copy(item.certificates.begin(), item.certificates.end(), certs.begin());
    return OkStatus();
  }

  Status FulfilMany(std::span<Fulfilment> items, std::string_view actor) override {
    std::lock_guard lock(mu_);
    const Time now = clock_.Now();
    KYSO_ASSIGN_OR_RETURN(Txn txn, Txn::Begin(db_));
    KYSO_ASSIGN_OR_RETURN(Stmt u, Stmt::Prepare(db_,
        "UPDATE requests SET state = 'fulfilled' WHERE id = ? AND state = 'approved'"));
    KYSO_ASSIGN_OR_RETURN(Stmt sub, Stmt::Prepare(db_,
        "INSERT INTO subscribers(kind, agency_code, workplace_code, name, email, data, created_at)"
        " VALUES (?, ?, ?, ?, ?, ?, ?)"));
    KYSO_ASSIGN_OR_RETURN(Stmt lin, Stmt::Prepare(db_, "INSERT INTO lineage VALUES (?, ?, ?, ?, ?, ?)"));
    KYSO_ASSIGN_OR_RETURN(Stmt rc, Stmt::Prepare(db_, "INSERT INTO request_certificates VALUES (?, ?)"));
    KYSO_ASSIGN_OR_RETURN(AuditWriter audit, AuditWriter::Load(db_));
    KYSO_ASSIGN_OR_RETURN(Stmt upd, Stmt::Prepare(db_,
        "UPDATE subscribers SET agency_code = ?, workplace_code = ?, name = ?, email = ?, data = ?"
        " WHERE id = ?"));
    KYSO_ASSIGN_OR_RETURN(Stmt approved, Stmt::Prepare(db_,
        "SELECT 1 FROM requests WHERE id = ? AND state = 'approved'"));
    KYSO_ASSIGN_OR_RETURN(Stmt linked, Stmt::Prepare(db_,
        "SELECT count(*) FROM request_certificates WHERE request_id = ?"));
    for (Fulfilment& item : items) {
      const int64_t request_id = item.request_id;
      if (item.complete) {
        KYSO_RETURN_IF_ERROR(u.Bind(1, request_id).Run());
      } else {
        approved.Reset();
        approved.Bind(1, request_id);
        KYSO_ASSIGN_OR_RETURN(bool found, approved.Step());
        if (!found) return FailedPreconditionError("request " + std::to_string(request_id) + " is not approved");
      }
      if (item.complete && sqlite3_changes(db_.get()) != 1) {
        return FailedPreconditionError("request " + std::to_string(request_id) + " is not approved");
      }
      if (item.certificates_before) {
        // Rows are enrolled one at a time and in order: another officer's enrolment of the same
        // row, committed meanwhile, makes this one stale.
        linked.Reset();
        linked.Bind(1, request_id);
        KYSO_ASSIGN_OR_RETURN(bool row, linked.Step());
        if (!row || linked.Int(0) != static_cast<int64_t>(*item.certificates_before)) {
          return FailedPreconditionError("request " + std::to_string(request_id) +
                                         ": that row was enrolled meanwhile by another officer");
        }
      }
      std::string serials;
      for (FulfilledCertificate& c : item.certificates) {
        if (c.subscriber.id != 0 && c.update_subscriber) {
          const Subscriber& s = c.subscriber;
          KYSO_RETURN_IF_ERROR(upd.Bind(1, s.agency_code).Bind(2, s.workplace_code).Bind(3, s.name)
                                   .Bind(4, s.email).Bind(5, s.data).Bind(6, s.id).Run(), "subscriber");
          KYSO_RETURN_IF_ERROR(audit.Append(db_, now, AuditEvent{std::string(actor), "subscriber.update",
              std::to_string(s.id), "{\"agency\":" + JsonString(s.agency_code) + ",\"email\":" +
              JsonString(s.email) + ",\"name\":" + JsonString(s.name) + "}"}));
        }
        if (c.subscriber.id == 0) {
          const Subscriber& s = c.subscriber;
          KYSO_RETURN_IF_ERROR(sub.Bind(1, s.kind).Bind(2, s.agency_code).Bind(3, s.workplace_code)
                                   .Bind(4, s.name).Bind(5, s.email).Bind(6, s.data).Bind(7, Secs(now)).Run(),
                               "subscriber");
          c.subscriber.id = sqlite3_last_insert_rowid(db_.get());
          KYSO_RETURN_IF_ERROR(audit.Append(db_, now, AuditEvent{std::string(actor), "subscriber.create",
              std::to_string(c.subscriber.id), "{\"kind\":" + JsonString(s.kind) + ",\"agency\":" +
              JsonString(s.agency_code) + ",\"name\":" + JsonString(s.name) + "}"}));
        }
        if (c.lineage.serial.empty()) continue;  // a revocation fulfils without a new certificate
        const Lineage& l = c.lineage;
        KYSO_RETURN_IF_ERROR(lin.Bind(1, l.serial).Bind(2, c.subscriber.id).Bind(3, l.origin)
                                 .Bind(4, l.parent_serial).Bind(5, int64_t{l.renewed}).Bind(6, request_id).Run(),
                             "lineage");
        KYSO_RETURN_IF_ERROR(rc.Bind(1, request_id).Bind(2, l.serial).Run());
        serials += (serials.empty() ? "" : ",") + JsonString(l.serial);
      }
      KYSO_RETURN_IF_ERROR(audit.Append(db_, now, AuditEvent{std::string(actor),
          item.complete ? "request.fulfilled" : "request.certificate",
          std::to_string(request_id), "{\"certificates\":[" + serials + "]}"}));
      if (item.device) {
        DeviceChange change = *item.device;
        // The device holds the certificate just issued, for the subscriber just made.
        if (!item.certificates.empty()) {
          change.device.holder_id = item.certificates.back().subscriber.id;
          change.device.certificate_serial = item.certificates.back().lineage.serial;
          change.event.certificate_serial = change.device.certificate_serial;
        }
        KYSO_RETURN_IF_ERROR(WriteDevice(change, now, actor, audit));
      }
    }
    return txn.Commit();
  }

  Result<bool> WasRenewed(std::string_view serial) override {
    std::lock_guard lock(mu_);
    KYSO_ASSIGN_OR_RETURN(Stmt s, Stmt::Prepare(db_,
        "SELECT 1 FROM lineage WHERE parent_serial = ? AND origin = 'renewal' LIMIT 1"));
    s.Bind(1, serial);
    return s.Step();
  }

  Result<Lineage> GetLineage(std::string_view serial) override {
    std::lock_guard lock(mu_);
    KYSO_ASSIGN_OR_RETURN(Stmt s, Stmt::Prepare(db_,
        "SELECT serial, subscriber_id, origin, parent_serial, renewed, request_id FROM lineage WHERE serial = ?"));
    s.Bind(1, serial);
    KYSO_ASSIGN_OR_RETURN(bool row, s.Step());
    if (!row) return NotFoundError("certificate " + std::string(serial) + " was not issued through a request");
    return Lineage{s.Text(0), s.Int(1), s.Text(2), s.Text(3), s.Int(4) != 0, s.Int(5)};
  }

  Status SaveDevice(const DeviceChange& change, std::string_view actor) override {
    std::lock_guard lock(mu_);
    KYSO_ASSIGN_OR_RETURN(Txn txn, Txn::Begin(db_));
    KYSO_ASSIGN_OR_RETURN(AuditWriter audit, AuditWriter::Load(db_));
    KYSO_RETURN_IF_ERROR(WriteDevice(change, clock_.Now(), actor, audit));
    return txn.Commit();
  }

  Result<Device> GetDevice(std::string_view serial) override {
    std::lock_guard lock(mu_);
    KYSO_ASSIGN_OR_RETURN(auto rows, QueryDevices(" WHERE d.serial = ?", {std::string(serial)}, 1));
    if (rows.empty()) return NotFoundError("no device " + std::string(serial) + " in the inventory");
    return std::move(rows[0]);
  }

  Result<std::vector<Device>> ListDevices(const DeviceFilter& f) override {
    std::lock_guard lock(mu_);
    std::string where = " WHERE 1";
    std::vector<std::string> texts;
    if (f.state) {
      where += " AND d.state = ?";
      texts.push_back(*f.state);
    }
    if (f.certificate_serial) {
      where += " AND d.certificate_serial = ?";
      texts.push_back(*f.certificate_serial);
    }
    if (!f.agency_codes.empty()) {
      where += " AND d.agency_code IN (";
      for (std::size_t i = 0; i < f.agency_codes.size(); ++i) {
        where += i == 0 ? "?" : ", ?";
        texts.push_back(f.agency_codes[i]);
      }
      where += ")";
    }
    return QueryDevices(where, texts, f.limit);
  }

  Status PutPendingSoPin(std::string_view label, ByteSpan wrapped, std::string_view actor) override {
    std::lock_guard lock(mu_);
    const Time now = clock_.Now();
    KYSO_ASSIGN_OR_RETURN(Txn txn, Txn::Begin(db_));
    KYSO_ASSIGN_OR_RETURN(Stmt s, Stmt::Prepare(db_, "INSERT INTO pending_so_pins VALUES (?, ?, ?, ?)"));
    if (Status st = s.Bind(1, label).Bind(2, wrapped).Bind(3, Secs(now)).Bind(4, actor).Run(); !st.ok()) {
      if (IsConstraintError()) return AlreadyExistsError("token " + std::string(label) + " has a pending SO PIN");
      return st;
    }
    KYSO_ASSIGN_OR_RETURN(AuditWriter audit, AuditWriter::Load(db_));
    KYSO_RETURN_IF_ERROR(audit.Append(db_, now, AuditEvent{std::string(actor), "token.so_pin_pending",
                                                           std::string(label), "{}"}));
    return txn.Commit();
  }

  Status DropPendingSoPin(std::string_view label, std::string_view actor) override {
    std::lock_guard lock(mu_);
    const Time now = clock_.Now();
    KYSO_ASSIGN_OR_RETURN(Txn txn, Txn::Begin(db_));
    KYSO_ASSIGN_OR_RETURN(Stmt s, Stmt::Prepare(db_, "DELETE FROM pending_so_pins WHERE token_label = ?"));
    KYSO_RETURN_IF_ERROR(s.Bind(1, label).Run());
    if (sqlite3_changes(db_.get()) == 0) return OkStatus();
    KYSO_ASSIGN_OR_RETURN(AuditWriter audit, AuditWriter::Load(db_));
    KYSO_RETURN_IF_ERROR(audit.Append(db_, now, AuditEvent{std::string(actor), "token.so_pin_dropped",
                                                           std::string(label), "{}"}));
    return txn.Commit();
  }

  Result<std::optional<Bytes>> GetPendingSoPin(std::string_view label) override {
    std::lock_guard lock(mu_);
    KYSO_ASSIGN_OR_RETURN(Stmt s, Stmt::Prepare(db_, "SELECT wrapped FROM pending_so_pins WHERE token_label = ?"));
    s.Bind(1, label);
    KYSO_ASSIGN_OR_RETURN(bool row, s.Step());
    if (!row) return std::optional<Bytes>();
    return std::optional<Bytes>(s.Blob(0));
  }

  Result<std::vector<DeviceEvent>> DeviceEvents(std::string_view serial) override {
    std::lock_guard lock(mu_);
    KYSO_ASSIGN_OR_RETURN(Stmt s, Stmt::Prepare(db_,
        "SELECT id, serial, at, actor, from_state, to_state, form, certificate_serial, holder,"
        " agency_code, date, receiver, reason, request_id, extra FROM device_events"
        " WHERE serial = ? ORDER BY id"));
    s.Bind(1, serial);
    std::vector<DeviceEvent> out;
    for (;;) {
      KYSO_ASSIGN_OR_RETURN(bool row, s.Step());
      if (!row) break;
      DeviceEvent e{s.Int(0), s.Text(1), FromSecs(s.Int(2)), s.Text(3), s.Text(4), s.Text(5),
                    s.Text(6), s.Text(7), s.Text(8), s.Text(9), s.Text(10), s.Text(11),
                    s.Text(12), std::nullopt, s.Text(14)};
      if (!s.IsNull(13)) e.request_id = s.Int(13);
      out.push_back(std::move(e));
    }
    return out;
  }

  Status PutCheckpoint(const AuditCheckpoint& c, std::string_view actor) override {
    std::lock_guard lock(mu_);
    KYSO_ASSIGN_OR_RETURN(Txn txn, Txn::Begin(db_));
    KYSO_ASSIGN_OR_RETURN(Stmt s, Stmt::Prepare(db_, "INSERT INTO audit_checkpoints VALUES (?, ?, ?, ?, ?)"));
    KYSO_RETURN_IF_ERROR(s.Bind(1, c.last_event_id).Bind(2, ByteSpan(c.head_hash)).Bind(3, c.at)
                             .Bind(4, c.key_label).Bind(5, ByteSpan(c.signature)).Run(), "checkpoint");
    KYSO_ASSIGN_OR_RETURN(AuditWriter audit, AuditWriter::Load(db_));
    KYSO_RETURN_IF_ERROR(audit.Append(db_, clock_.Now(), AuditEvent{std::string(actor), "audit.checkpoint",
        std::to_string(c.last_event_id), "{\"head\":\"" + HexEncode(c.head_hash) + "\"}"}));
    return txn.Commit();
  }

  Result<std::vector<AuditCheckpoint>> ListCheckpoints() override {
    std::lock_guard lock(mu_);
    KYSO_ASSIGN_OR_RETURN(Stmt s, Stmt::Prepare(db_,
        "SELECT last_event_id, head_hash, at, key_label, signature FROM audit_checkpoints ORDER BY last_event_id"));
    std::vector<AuditCheckpoint> out;
    for (;;) {
      KYSO_ASSIGN_OR_RETURN(bool row, s.Step());
      if (!row) break;
      out.push_back(AuditCheckpoint{s.Int(0), s.Blob(1), s.Text(2), s.Text(3), s.Blob(4)});
    }
    return out;
  }

  Result<std::vector<AuditEventHash>> AuditHashes() override {
    std::lock_guard lock(mu_);
    KYSO_ASSIGN_OR_RETURN(Stmt s, Stmt::Prepare(db_,
        "SELECT id, hash, action, object FROM audit_events ORDER BY id"));
    std::vector<AuditEventHash> out;
    for (;;) {
      KYSO_ASSIGN_OR_RETURN(bool row, s.Step());
      if (!row) break;
      out.push_back(AuditEventHash{s.Int(0), s.Blob(1), s.Text(2), s.Text(3)});
    }
    return out;
  }

  Result<std::pair<int64_t, Bytes>> AuditHead() override {
    std::lock_guard lock(mu_);
    KYSO_ASSIGN_OR_RETURN(Stmt s, Stmt::Prepare(db_, "SELECT id, hash FROM audit_events ORDER BY id DESC LIMIT 1"));
    KYSO_ASSIGN_OR_RETURN(bool row, s.Step());
    if (!row) return std::make_pair(int64_t{0}, Bytes(kAuditHashLen, 0));
    return std::make_pair(s.Int(0), s.Blob(1));
  }

  Status AppendAudit(const AuditEvent& event) override {
    std::lock_guard lock(mu_);
    KYSO_ASSIGN_OR_RETURN(Txn txn, Txn::Begin(db_));
    KYSO_ASSIGN_OR_RETURN(AuditWriter audit, AuditWriter::Load(db_));
    KYSO_RETURN_IF_ERROR(audit.Append(db_, clock_.Now(), event));
    return txn.Commit();
  }

  Result<AuditReport> VerifyAudit() override {
    std::lock_guard lock(mu_);
    KYSO_ASSIGN_OR_RETURN(Stmt s, Stmt::Prepare(db_,
        "SELECT id, at, actor, action, object, payload, prev_hash, hash FROM audit_events ORDER BY id"));
    AuditReport report;
    Bytes prev(kAuditHashLen, 0);
    int64_t expected_id = 1;
    for (;;) {
      KYSO_ASSIGN_OR_RETURN(bool row, s.Step());
      if (!row) break;
      const int64_t id = s.Int(0);
      auto bad = [&](std::string why) {
        report.first_bad_id = id;
        report.problem = std::move(why);
        return report;
      };
      if (id != expected_id) {
        report.first_bad_id = expected_id;
        report.problem = id > expected_id ? "event " + std::to_string(expected_id) + " is missing"
                                          : "event ids out of order";
        return report;
      }
      const Bytes stored_prev = s.Blob(6);
      if (!SecretEquals(stored_prev, prev)) return bad("its previous-hash does not match the event before it");
      const Bytes h = AuditHash(prev, id, s.Text(1), AuditEvent{s.Text(2), s.Text(3), s.Text(4), s.Text(5)});
      if (!SecretEquals(h, s.Blob(7))) return bad("its content does not match its hash");
      prev = h;
      ++expected_id;
      ++report.events;
    }
    return report;
  }

 private:
  static constexpr std::string_view kSelectRequest =
      "SELECT id, kind, state, route, exchange_code, agency_code, filed_by, filed_at, due_date,"
      " COALESCE(decided_by, ''), decided_at, reason, target_serial, payload, parent_request FROM requests";

  Result<std::vector<RequestRecord>> QueryRequests(const std::string& sql,
                                                   const std::vector<int64_t>& ints,
                                                   const std::vector<std::string>& texts) {
    KYSO_ASSIGN_OR_RETURN(Stmt s, Stmt::Prepare(db_, sql));
    int i = 1;
    for (const std::string& t : texts) s.Bind(i++, t);
    for (int64_t v : ints) s.Bind(i++, v);
    std::vector<RequestRecord> out;
    for (;;) {
      KYSO_ASSIGN_OR_RETURN(bool row, s.Step());
      if (!row) break;
      RequestRecord r;
      r.id = s.Int(0);
      r.kind = s.Text(1);
      r.state = s.Text(2);
      r.route = s.Text(3);
      r.exchange_code = s.Text(4);
      r.agency_code = s.Text(5);
      r.filed_by = s.Text(6);
      r.filed_at = FromSecs(s.Int(7));
      r.due_date = s.Text(8);
      r.decided_by = s.Text(9);
      if (!s.IsNull(10)) r.decided_at = FromSecs(s.Int(10));
      r.reason = s.Text(11);
      r.target_serial = s.Text(12);
      r.payload = s.Text(13);
      if (!s.IsNull(14)) r.parent_request = s.Int(14);
      out.push_back(std::move(r));
    }
    return out;
  }

  static constexpr std::string_view kSelectCert =
      "SELECT serial, issuer, profile, subject, not_before, not_after, state, tbs_der,"
      " cert_der, revoked_at, revocation_reason FROM certificates";

  Result<std::vector<CertificateRecord>> Query(const std::string& sql,
                                               std::optional<std::string_view> arg) {
    KYSO_ASSIGN_OR_RETURN(Stmt s, Stmt::Prepare(db_, sql));
    if (arg) s.Bind(1, *arg);
    std::vector<CertificateRecord> out;
    for (;;) {
      KYSO_ASSIGN_OR_RETURN(bool row, s.Step());
      if (!row) break;
      CertificateRecord r;
      r.serial_hex = s.Text(0);
      r.issuer = s.Text(1);
      r.profile = s.Text(2);
      r.subject = s.Text(3);
      r.not_before = FromSecs(s.Int(4));
      r.not_after = FromSecs(s.Int(5));
      r.state = ParseState(s.Text(6));
      r.tbs_der = s.Blob(7);
      r.cert_der = s.Blob(8);
      if (!s.IsNull(9)) {
        r.revoked_at = FromSecs(s.Int(9));
        r.reason = static_cast<pkix::CrlReason>(s.Int(10));
      }
      out.push_back(std::move(r));
    }
    return out;
  }

  // IsConstraintError tells whether the last statement broke a UNIQUE or PRIMARY KEY
  // constraint (a duplicate), by SQLite's extended result code.
  bool IsConstraintError() const {
    const int code = sqlite3_extended_errcode(db_.get());
    return code == SQLITE_CONSTRAINT_UNIQUE || code == SQLITE_CONSTRAINT_PRIMARYKEY;
  }

  static constexpr std::string_view kSelectDevice =
      "SELECT d.serial, d.type, d.model, d.manufacturer, d.token_label, d.phone, d.operator,"
      " d.state, d.holder_id, COALESCE(s.name, ''), COALESCE(d.agency_code, ''),"
      " d.certificate_serial, d.request_id, d.so_pin_wrapped, d.pin_state, d.updated_at"
      " FROM devices d LEFT JOIN subscribers s ON s.id = d.holder_id";

  Result<std::vector<Device>> QueryDevices(const std::string& where,
                                           const std::vector<std::string>& texts,
                                           std::size_t limit) {
    KYSO_ASSIGN_OR_RETURN(Stmt s, Stmt::Prepare(db_, std::string(kSelectDevice) + where +
                                                         " ORDER BY d.serial LIMIT ?"));
    int i = 1;
    for (const std::string& t : texts) s.Bind(i++, t);
    s.Bind(i, static_cast<int64_t>(limit));
    std::vector<Device> out;
    for (;;) {
      KYSO_ASSIGN_OR_RETURN(bool row, s.Step());
      if (!row) break;
      Device d;
      d.serial = s.Text(0);
      d.type = s.Text(1);
      d.model = s.Text(2);
      d.manufacturer = s.Text(3);
      d.token_label = s.Text(4);
      d.phone = s.Text(5);
      d.operator_name = s.Text(6);
      d.state = s.Text(7);
      if (!s.IsNull(8)) d.holder_id = s.Int(8);
      d.holder_name = s.Text(9);
      d.agency_code = s.Text(10);
      d.certificate_serial = s.Text(11);
      if (!s.IsNull(12)) d.request_id = s.Int(12);
      d.so_pin_wrapped = s.Blob(13);
      d.pin_state = s.Text(14);
      d.updated_at = FromSecs(s.Int(15));
      out.push_back(std::move(d));
    }
    return out;
  }

  // WriteDevice inserts or updates a device and records its event, inside the caller's
  // transaction.
  template <typename Audit>
  Status WriteDevice(const DeviceChange& c, Time now, std::string_view actor, Audit& audit) {
    const Device& d = c.device;
    KYSO_ASSIGN_OR_RETURN(Stmt w, Stmt::Prepare(db_, c.expected_state
        ? "UPDATE devices SET type = ?1, model = ?2, manufacturer = ?3, token_label = ?4,"
          " phone = ?5, operator = ?6, state = ?7, holder_id = ?8, agency_code = ?9,"
          " certificate_serial = ?10, request_id = ?11, so_pin_wrapped = ?12, pin_state = ?13,"
          " updated_at = ?14 WHERE serial = ?15 AND state = ?16"
        : "INSERT INTO devices(type, model, manufacturer, token_label, phone, operator, state,"
          " holder_id, agency_code, certificate_serial, request_id, so_pin_wrapped, pin_state,"
          " updated_at, serial) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13,"
          " ?14, ?15)"));
    w.Bind(1, d.type).Bind(2, d.model).Bind(3, d.manufacturer).Bind(4, d.token_label)
        .Bind(5, d.phone).Bind(6, d.operator_name).Bind(7, d.state);
    if (d.holder_id) w.Bind(8, *d.holder_id); else w.BindNull(8);
    if (d.agency_code.empty()) w.BindNull(9); else w.Bind(9, d.agency_code);
    w.Bind(10, d.certificate_serial);
    if (d.request_id) w.Bind(11, *d.request_id); else w.BindNull(11);
    if (d.so_pin_wrapped.empty()) w.BindNull(12); else w.Bind(12, ByteSpan(d.so_pin_wrapped));
    w.Bind(13, d.pin_state).Bind(14, Secs(now)).Bind(15, d.serial);
    if (c.expected_state) w.Bind(16, *c.expected_state);
    Status written = w.Run();
    if (!written.ok()) {
      if (!c.expected_state && IsConstraintError()) {
        return AlreadyExistsError("device " + d.serial + " is already in the inventory");
      }
      return written.WithContext("device " + d.serial);
    }
    if (c.expected_state && sqlite3_changes(db_.get()) != 1) {
      return FailedPreconditionError("device " + d.serial + " is no longer " + *c.expected_state);
    }
    const DeviceEvent& e = c.event;
    KYSO_ASSIGN_OR_RETURN(Stmt ev, Stmt::Prepare(db_,
        "INSERT INTO device_events(serial, at, actor, from_state, to_state, form,"
        " certificate_serial, holder, agency_code, date, receiver, reason, request_id, extra)"
        " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"));
    ev.Bind(1, d.serial).Bind(2, Secs(now)).Bind(3, actor).Bind(4, c.expected_state.value_or(""))
        .Bind(5, d.state).Bind(6, e.form).Bind(7, e.certificate_serial).Bind(8, e.holder)
        .Bind(9, e.agency_code).Bind(10, e.date).Bind(11, e.receiver).Bind(12, e.reason);
    if (e.request_id) ev.Bind(13, *e.request_id); else ev.BindNull(13);
    ev.Bind(14, e.extra.empty() ? "{}" : e.extra);
    KYSO_RETURN_IF_ERROR(ev.Run(), "device event");
    if (!c.clears_pending_so_pin.empty()) {
      KYSO_ASSIGN_OR_RETURN(Stmt del, Stmt::Prepare(db_, "DELETE FROM pending_so_pins WHERE token_label = ?"));
      KYSO_RETURN_IF_ERROR(del.Bind(1, c.clears_pending_so_pin).Run(), "pending SO PIN");
    }
    // The audit payload names what changed; the wrapped SO PIN never goes in it.
    return audit.Append(db_, now, AuditEvent{std::string(actor), "device." + d.state, d.serial,
        "{\"from\":" + JsonString(c.expected_state.value_or("")) + ",\"type\":" + JsonString(d.type) +
        ",\"form\":" + JsonString(e.form) + ",\"certificate\":" + JsonString(d.certificate_serial) +
        ",\"holder\":" + JsonString(e.holder) + ",\"agency\":" + JsonString(d.agency_code) +
        ",\"receiver\":" + JsonString(e.receiver) + ",\"reason\":" + JsonString(e.reason) +
        ",\"pin_state\":" + JsonString(d.pin_state) + ",\"request\":" +
        (e.request_id ? std::to_string(*e.request_id) : std::string("null")) + "}"});
  }

  // AuditWriter appends events to the chain inside the caller's transaction. It reads the
  // head once, under the write lock that BEGIN IMMEDIATE took, and keeps it for a batch.
  class AuditWriter {
   public:
    static Result<AuditWriter> Load(Db& db) {
      KYSO_ASSIGN_OR_RETURN(Stmt head, Stmt::Prepare(db,
          "SELECT id, hash FROM audit_events ORDER BY id DESC LIMIT 1"));
      KYSO_ASSIGN_OR_RETURN(bool row, head.Step());
      KYSO_ASSIGN_OR_RETURN(Stmt ins, Stmt::Prepare(db,
          "INSERT INTO audit_events(id, at, actor, action, object, payload, prev_hash, hash)"
          " VALUES (?, ?, ?, ?, ?, ?, ?, ?)"));
      AuditWriter w(std::move(ins));
      if (row) {
        w.next_id_ = head.Int(0) + 1;
        w.prev_ = head.Blob(1);
      }
      return w;
    }

    Status Append(Db&, Time at, const AuditEvent& e) {
      const std::string at_text = FormatIso8601Utc(at);
      Bytes h = AuditHash(prev_, next_id_, at_text, e);
      KYSO_RETURN_IF_ERROR(ins_.Bind(1, next_id_).Bind(2, at_text).Bind(3, e.actor)
                               .Bind(4, e.action).Bind(5, e.object).Bind(6, e.payload)
                               .Bind(7, ByteSpan(prev_)).Bind(8, ByteSpan(h)).Run(), "audit");
      prev_ = std::move(h);
      ++next_id_;
      return OkStatus();
    }

   private:
    explicit AuditWriter(Stmt ins) : ins_(std::move(ins)), prev_(kAuditHashLen, 0) {}
    Stmt ins_;
    int64_t next_id_ = 1;
    Bytes prev_;
  };

  std::mutex mu_;
  Db db_;
  const Clock& clock_;
};

}  // namespace

std::string_view CertStateName(CertState s) { return kStates[static_cast<int>(s)]; }

Result<std::unique_ptr<Store>> OpenSqliteStore(const std::string& path, const Clock& clock) {
  KYSO_ASSIGN_OR_RETURN(Db db, Db::Open(path));
  auto store = std::make_unique<SqliteStore>(std::move(db), clock);
  KYSO_RETURN_IF_ERROR(store->Init(), "open " + path);
  return std::unique_ptr<Store>(std::move(store));
}

}  // namespace kyso::store
