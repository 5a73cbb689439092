#include <gtest/gtest.h>
#include <sqlite3.h>

#include "kyso/base/temp_dir.h"

#include "kyso/store/store.h"

namespace kyso::store {
namespace {

class StoreTest : public testing::Test {
 protected:
  void SetUp() override {
    path_ = (dir_ / "kyso.db").string();
    auto s = OpenSqliteStore(path_, clock_);
    ASSERT_TRUE(s.ok()) << s.status().ToString();
    store_ = std::move(s).value();
  }
  void TearDown() override {
    store_.reset();
  }

  PendingIssuance Pending(std::string serial) {
    return {std::move(serial), "issuing", "individual", "CN=Nguyễn Văn A", Utc(2026, 11, 25),
            Utc(2031, 11, 25), Bytes{0x30, 0x00}};
  }

  void Issue(const std::string& serial) {
    PendingIssuance p = Pending(serial);
    ASSERT_TRUE(store_->RecordIssuances(std::span(&p, 1), "console").ok());
    IssuedCertificate c{serial, Bytes{0x30, 0x01}};
    ASSERT_TRUE(store_->CompleteIssuances(std::span(&c, 1), clock_.Now(), "console").ok());
  }

  void Sql(const std::string& sql) {
    sqlite3* db = nullptr;
    ASSERT_EQ(sqlite3_open(path_.c_str(), &db), SQLITE_OK);
    char* err = nullptr;
    EXPECT_EQ(sqlite3_exec(db, sql.c_str(), nullptr, nullptr, &err), SQLITE_OK) << (err ? err : "");
    sqlite3_free(err);
    sqlite3_close(db);
  }

  FakeClock clock_{Utc(2026, 11, 25, 8)};
  TempDir dir_{"kyso-store"};
  std::string path_;
  std::unique_ptr<Store> store_;
};

TEST_F(StoreTest, RecordThenCompleteThenRevoke) {
  PendingIssuance p = Pending("0a");
  ASSERT_TRUE(store_->RecordIssuances(std::span(&p, 1), "console").ok());
  EXPECT_EQ(store_->ListPending()->size(), 1u);
  EXPECT_EQ(store_->GetCertificate("0a")->state, CertState::kPending);
  // Revoking before issuance is refused.
  EXPECT_EQ(store_->Revoke("0a", clock_.Now(), pkix::CrlReason::kKeyCompromise, "keyCompromise", "c").code(),
            Code::kFailedPrecondition);
  IssuedCertificate c{"0a", Bytes{0x30, 0x01}};
  ASSERT_TRUE(store_->CompleteIssuances(std::span(&c, 1), clock_.Now(), "console").ok());
  EXPECT_TRUE(store_->ListPending()->empty());
  ASSERT_TRUE(store_->Revoke("0a", clock_.Now(), pkix::CrlReason::kKeyCompromise, "keyCompromise", "c").ok());
  EXPECT_EQ(store_->Revoke("0a", clock_.Now(), pkix::CrlReason::kKeyCompromise, "keyCompromise", "c").code(),
            Code::kFailedPrecondition);
  EXPECT_EQ(store_->Revoke("0b", clock_.Now(), pkix::CrlReason::kKeyCompromise, "keyCompromise", "c").code(),
            Code::kNotFound);
  auto rec = store_->GetCertificate("0a");
  ASSERT_TRUE(rec->revoked_at.has_value());
  EXPECT_EQ(rec->reason, pkix::CrlReason::kKeyCompromise);
  auto revoked = store_->ListRevoked("issuing");
  ASSERT_EQ(revoked->size(), 1u);
  EXPECT_EQ((*revoked)[0].serial, Bytes{0x0a});
  auto changes = store_->StatusChangesSince(0);
  ASSERT_EQ(changes->size(), 1u);
  EXPECT_EQ((*changes)[0].serial_hex, "0a");
  EXPECT_EQ(*store_->LastStatusChange(), (*changes)[0].seq);
}

TEST_F(StoreTest, CompletingTwiceKeepsTheFirstCertificate) {
  PendingIssuance p = Pending("0c");
  ASSERT_TRUE(store_->RecordIssuances(std::span(&p, 1), "console").ok());
  IssuedCertificate first{"0c", Bytes{0x30, 0x01}};
  EXPECT_EQ(*store_->CompleteIssuances(std::span(&first, 1), clock_.Now(), "recover"), 1);
  IssuedCertificate second{"0c", Bytes{0x30, 0x02}};
  EXPECT_EQ(*store_->CompleteIssuances(std::span(&second, 1), clock_.Now(), "batch"), 0);
  EXPECT_EQ(second.cert_der, first.cert_der);
  EXPECT_EQ(store_->GetCertificate("0c")->cert_der, first.cert_der);
  IssuedCertificate never{"0d", Bytes{0x30, 0x03}};
  EXPECT_EQ(store_->CompleteIssuances(std::span(&never, 1), clock_.Now(), "x").status().code(),
            Code::kFailedPrecondition);
}

TEST_F(StoreTest, DuplicateSerialRefusedAndNothingStored) {
  Issue("01");
  std::vector<PendingIssuance> batch = {Pending("02"), Pending("01")};
  EXPECT_EQ(store_->RecordIssuances(batch, "console").code(), Code::kAlreadyExists);
  EXPECT_EQ(store_->GetCertificate("02").status().code(), Code::kNotFound);
  EXPECT_EQ(store_->VerifyAudit()->events, 2);
}

TEST_F(StoreTest, ReopeningAppliesNoMigrationTwice) {
  Issue("0e");
  store_.reset();
  auto again = OpenSqliteStore(path_, clock_);
  ASSERT_TRUE(again.ok()) << again.status().ToString();
  EXPECT_EQ((*again)->GetCertificate("0e")->state, CertState::kIssued);
}

TEST_F(StoreTest, CrlNumbersIncreaseAndLatestIsKept) {
  EXPECT_EQ(*store_->NextCrlNumber("issuing"), 1);
  EXPECT_EQ(*store_->NextCrlNumber("issuing"), 2);
  EXPECT_EQ(*store_->NextCrlNumber("root"), 1);
  ASSERT_TRUE(store_->PutCrl({"issuing", 2, clock_.Now(), clock_.Now(), Bytes{1}}, "c").ok());
  auto latest = store_->LatestCrl("issuing");
  ASSERT_TRUE(latest->has_value());
  EXPECT_EQ((*latest)->number, 2);
  EXPECT_FALSE(store_->LatestCrl("root")->has_value());
  EXPECT_EQ(*store_->LatestCrlNumber("issuing"), 2);
  EXPECT_EQ(*store_->LatestCrlNumber("root"), 0);
}

TEST_F(StoreTest, AuditChainVerifies) {
  for (int i = 1; i <= 5; ++i) Issue("0" + std::to_string(i));
  auto report = store_->VerifyAudit();
  ASSERT_TRUE(report.ok());
  EXPECT_EQ(report->events, 10);
  EXPECT_FALSE(report->first_bad_id.has_value());
}

TEST_F(StoreTest, AuditDetectsEditedEvent) {
  for (int i = 1; i <= 3; ++i) Issue("0" + std::to_string(i));
  Sql("UPDATE audit_events SET payload = '{\"x\":1}' WHERE id = 3");
  EXPECT_EQ(store_->VerifyAudit()->first_bad_id, 3);
}

TEST_F(StoreTest, AuditDetectsDeletedEvent) {
  for (int i = 1; i <= 3; ++i) Issue("0" + std::to_string(i));
  Sql("DELETE FROM audit_events WHERE id = 4");
  EXPECT_EQ(store_->VerifyAudit()->first_bad_id, 4);
  Sql("DELETE FROM audit_events WHERE id = 6");  // the head: caught by nothing but the count
}

TEST_F(StoreTest, AuditDetectsSwappedEvents) {
  for (int i = 1; i <= 3; ++i) Issue("0" + std::to_string(i));
  Sql("UPDATE audit_events SET id = -1 WHERE id = 2; UPDATE audit_events SET id = 2 WHERE id = 3;"
      "UPDATE audit_events SET id = 3 WHERE id = -1;");
  EXPECT_EQ(store_->VerifyAudit()->first_bad_id, 2);
}

TEST_F(StoreTest, AuditDetectsInsertedEvent) {
  for (int i = 1; i <= 2; ++i) Issue("0" + std::to_string(i));
  Sql("UPDATE audit_events SET id = id + 100 WHERE id >= 3;"
      "UPDATE audit_events SET id = id - 99 WHERE id >= 100;");
  Sql("INSERT INTO audit_events VALUES (3, 'x', 'x', 'x', 'x', '{}', zeroblob(32), zeroblob(32))");
  EXPECT_EQ(store_->VerifyAudit()->first_bad_id, 3);
}

}  // namespace
}  // namespace kyso::store
