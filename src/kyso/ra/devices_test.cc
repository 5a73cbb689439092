#include "kyso/ra/devices.h"

#include <gtest/gtest.h>

#include <set>

#include "kyso/pkix/csr.h"
#include "kyso/ra/workflow_fixture.h"

namespace kyso::ra {
namespace {

const std::vector<std::string> kAllStates = {
    "in_stock", "personalised", "handed_over", "locked", "returned_to_agency",
    "returned_to_provider", "lost", "damaged"};

class DevicesTest : public WorkflowTest {
 protected:
  void SetUp() override {
    WorkflowTest::SetUp();
    inventory_ = std::make_unique<Inventory>(config_, *store_, *workflow_, clock_);
  }

  // FileApproved files a new-individual request without a CSR for one person and approves
  // it: it waits for its device.
  int64_t FileApproved(const std::string& rows) {
    FilingInput in = Input(RequestKind::kNewIndividual);
    in.rows_csv = std::string(kMau01Header) + rows;
    auto id = workflow_->File(focal_skhcn_, in);
    EXPECT_TRUE(id.ok()) << id.status().ToString();
    EXPECT_TRUE(workflow_->Decide(provider_, *id, true, "").ok());
    EXPECT_EQ(workflow_->Show(provider_, *id)->record.state, "approved");
    return *id;
  }

  // EnrolToken enrols a device for the request's next row, with a key made in-process (the
  // token itself is exercised by token_test and the interop tests). Returns the certificate.
  std::string EnrolToken(int64_t request, const std::string& serial) {
    auto row = workflow_->NextWaitingRow(provider_, request);
    EXPECT_TRUE(row.ok()) << row.status().ToString();
    auto key = pkix::KeySigner::Generate("ec-p256");
    auto der = pkix::MakeCertRequest(**key, row->name);
    auto csr = pkix::ParseCertRequest(*der);
    EXPECT_TRUE(csr.ok()) << csr.status().ToString();
    PutDevice(serial, "token", "in_stock", "", "");
    store::Device d = *store_->GetDevice(serial);
    store::DeviceChange change{d, std::string(kInStock), {}};
    change.device.state = std::string(kPersonalised);
    auto issued = workflow_->Enrol(provider_, *row, *csr, change);
    EXPECT_TRUE(issued.ok()) << issued.status().ToString();
    return issued.ok() ? issued->serial_hex : "";
  }

  std::string StateOf(const std::string& serial) { return store_->GetDevice(serial)->state; }
  std::size_t EventCount(const std::string& serial) { return store_->DeviceEvents(serial)->size(); }

  const Actor console_ = Actor::Console();
  std::unique_ptr<Inventory> inventory_;
};

std::string Row(const std::string& name, const std::string& cccd) {
  return Mau01Row(name, cccd, "a" + cccd + "@dongnai.gov.vn", "SKHCN.CDS", "");
}

TEST_F(DevicesTest, EveryIllegalTransitionIsRefusedAndChangesNothing) {
  std::set<std::pair<std::string, std::string>> by_hand;
  for (const Transition& t : Transitions()) {
    if (t.by_hand) by_hand.insert({std::string(t.from), std::string(t.to)});
  }
  int refused = 0;
  for (const std::string& from : kAllStates) {
    for (const std::string& to : kAllStates) {
      if (by_hand.contains({from, to})) continue;
      const std::string serial = "T-" + from + "-" + to;
      PutDevice(serial, "token", from);
      const std::size_t events = EventCount(serial);
      Status s = inventory_->Move(console_, serial, to,
                                  {{"reason", "thử"}, {"receiver", "Trần Văn An"}});
      EXPECT_EQ(s.code(), Code::kFailedPrecondition) << from << " -> " << to << ": " << s.ToString();
      EXPECT_FALSE(s.message().empty());
      EXPECT_EQ(StateOf(serial), from);
      EXPECT_EQ(EventCount(serial), events);
      ++refused;
    }
  }
  EXPECT_EQ(refused, 64 - static_cast<int>(by_hand.size()));
  // A state that does not exist is refused too, by name.
  PutDevice("T-unknown", "token", "handed_over");
  Status s = inventory_->Move(console_, "T-unknown", "stolen", {});
  EXPECT_EQ(s.code(), Code::kInvalidArgument);
  EXPECT_EQ(StateOf("T-unknown"), "handed_over");
}

TEST_F(DevicesTest, EveryAllowedTransitionByHandWorksAndIsAudited) {
  for (const Transition& t : Transitions()) {
    if (!t.by_hand) continue;
    const std::string serial = "T-" + std::string(t.from) + "-" + std::string(t.to);
    PutDevice(serial, "token", std::string(t.from));
    std::map<std::string, std::string> fields;
    for (std::string_view key : t.required) {
      // Without its required field the move is refused...
      EXPECT_EQ(inventory_->Move(console_, serial, t.to, {}).code(), Code::kInvalidArgument) << serial;
      fields[std::string(key)] = "Trần Văn An";
    }
    // ...and with it, it is made, with its record.
    Status s = inventory_->Move(console_, serial, t.to, fields);
    ASSERT_TRUE(s.ok()) << serial << ": " << s.ToString();
    EXPECT_EQ(StateOf(serial), t.to);
    const auto events = *store_->DeviceEvents(serial);
    EXPECT_EQ(events.back().from_state, t.from);
    EXPECT_EQ(events.back().form, t.form);
  }
  EXPECT_TRUE(store_->VerifyAudit()->problem.empty());
}

TEST_F(DevicesTest, KysoOnlyTransitionsAreRefusedByHand) {
  PutDevice("T-1", "token", "in_stock");
  Status s = inventory_->Move(console_, "T-1", "personalised", {});
  EXPECT_EQ(s.code(), Code::kFailedPrecondition);
  EXPECT_NE(s.message().find("kyso token enroll"), std::string::npos);
  PutDevice("T-2", "token", "locked");
  s = inventory_->Move(console_, "T-2", "handed_over", {});
  EXPECT_EQ(s.code(), Code::kFailedPrecondition);
  EXPECT_NE(s.message().find("kyso token unblock"), std::string::npos);
}

TEST_F(DevicesTest, RolesPerTransition) {
  PutDevice("T-1", "token", "returned_to_provider");
  // Putting a returned device back in stock is the provider's.
  EXPECT_EQ(inventory_->Move(focal_skhcn_, "T-1", "in_stock", {}).code(), Code::kPermissionDenied);
  EXPECT_EQ(inventory_->Move(authority_, "T-1", "in_stock", {}).code(), Code::kPermissionDenied);
  EXPECT_TRUE(inventory_->Move(provider_, "T-1", "in_stock", {}).ok());
  // R15.2: a focal person moves only their own agency's devices.
  PutDevice("T-2", "token", "handed_over", "", "SKHCN");
  EXPECT_EQ(inventory_->Move(focal_snv_, "T-2", "returned_to_agency", {}).code(), Code::kPermissionDenied);
  EXPECT_EQ(StateOf("T-2"), "handed_over");
  auto seen = inventory_->List(focal_snv_, std::nullopt, false);
  ASSERT_TRUE(seen.ok());
  for (const DeviceView& v : *seen) EXPECT_NE(v.device.serial, "T-2");
  const Actor auditor{"kiem_toan", Role::kAuditor, ""};
  EXPECT_EQ(inventory_->Move(auditor, "T-2", "returned_to_agency", {}).code(), Code::kPermissionDenied);
  EXPECT_TRUE(inventory_->Move(focal_skhcn_, "T-2", "returned_to_agency", {}).ok());
}

TEST_F(DevicesTest, EnrolmentFulfilsTheRequestWhenItsLastRowHasItsDevice) {
  const int64_t id = FileApproved(Row("Trần Văn An", "079185000201") + Row("Lê Thị Bình", "079185000202"));
  const std::string first = EnrolToken(id, "TK-A");
  ASSERT_FALSE(first.empty());
  auto r = workflow_->Show(provider_, id);
  EXPECT_EQ(r->record.state, "approved");  // one row still waits
  EXPECT_EQ(r->record.certificate_serials, std::vector<std::string>{first});
  store::Device a = *store_->GetDevice("TK-A");
  EXPECT_EQ(a.state, "personalised");
  EXPECT_EQ(a.certificate_serial, first);
  EXPECT_EQ(a.holder_name, "Trần Văn An");
  EXPECT_EQ(a.agency_code, "SKHCN");
  EXPECT_EQ(a.request_id, id);
  const std::string second = EnrolToken(id, "TK-B");
  EXPECT_EQ(workflow_->Show(provider_, id)->record.state, "fulfilled");
  EXPECT_EQ(store_->GetDevice("TK-B")->holder_name, "Lê Thị Bình");
  // Nothing is left to enrol.
  EXPECT_EQ(workflow_->NextWaitingRow(provider_, id).status().code(), Code::kFailedPrecondition);
  // A focal person does not enrol devices.
  EXPECT_EQ(workflow_->NextWaitingRow(focal_skhcn_, FileApproved(Row("Phạm Văn Cường", "079185000203")))
                .status().code(),
            Code::kPermissionDenied);
}

TEST_F(DevicesTest, R13_1_LockedTokenRecoveredThroughTheAuthority) {
  const int64_t id = FileApproved(Row("Trần Văn An", "079185000201"));
  const std::string cert = EnrolToken(id, "TK-A");
  ASSERT_TRUE(inventory_->Move(focal_skhcn_, "TK-A", "handed_over", {{"receiver", "Trần Văn An"}}).ok());
  // The token reports its PIN locked: the inventory follows it.
  ASSERT_TRUE(inventory_->ObservePinState(focal_skhcn_, "TK-A", "locked").ok());
  EXPECT_EQ(StateOf("TK-A"), "locked");
  EXPECT_EQ(store_->GetDevice("TK-A")->pin_state, "locked");
  auto locked = inventory_->List(provider_, std::string("locked"), false);
  ASSERT_EQ(locked->size(), 1u);

  // Mẫu 06, filed by the focal person, naming the device by its certificate.
  auto rid = FileTarget(focal_skhcn_, RequestKind::kRecover, cert);
  ASSERT_TRUE(rid.ok()) << rid.status().ToString();
  auto r = workflow_->Show(focal_skhcn_, *rid)->record;
  EXPECT_EQ(r.route, "authority");
  EXPECT_EQ(r.exchange_code, "H19.5");
  EXPECT_EQ(workflow_->Decide(provider_, *rid, true, "").code(), Code::kPermissionDenied);
  ASSERT_TRUE(workflow_->Decide(authority_, *rid, true, "").ok());
  EXPECT_EQ(workflow_->Show(authority_, *rid)->record.state, "approved");  // waits for the unblock

  store::Device device = *store_->GetDevice("TK-A");
  EXPECT_EQ(workflow_->CheckRecovery(provider_, *rid, device).status().code(), Code::kPermissionDenied);
  EXPECT_EQ(workflow_->CheckRecovery(focal_skhcn_, *rid, device).status().code(), Code::kPermissionDenied);
  PutDevice("TK-OTHER", "token", "locked", cert);
  EXPECT_EQ(workflow_->CheckRecovery(authority_, *rid, *store_->GetDevice("TK-OTHER")).status().code(),
            Code::kFailedPrecondition);
  auto ok = workflow_->CheckRecovery(authority_, *rid, device);
  ASSERT_TRUE(ok.ok()) << ok.status().ToString();
  ASSERT_TRUE(workflow_->CompleteRecovery(authority_, *ok, device).ok());
  EXPECT_EQ(workflow_->Show(authority_, *rid)->record.state, "fulfilled");
  EXPECT_EQ(StateOf("TK-A"), "handed_over");
  EXPECT_EQ(store_->GetDevice("TK-A")->pin_state, "ok");
  EXPECT_EQ(store_->GetDevice("TK-A")->certificate_serial, cert);  // the same certificate
  EXPECT_EQ(store_->DeviceEvents("TK-A")->back().request_id, *rid);
  // A recovery is carried out once.
  EXPECT_EQ(workflow_->CheckRecovery(authority_, *rid, device).status().code(), Code::kFailedPrecondition);
}

TEST_F(DevicesTest, R13_1_SimPkiRecoveryIsTheProvidersAndEndsWithItsApproval) {
  const std::string cert = IssueNhung();
  PutDevice("84912345678", "sim", "locked", cert);
  auto rid = FileTarget(focal_skhcn_, RequestKind::kRecover, "", {{"device_serial", "84912345678"}});
  ASSERT_TRUE(rid.ok()) << rid.status().ToString();
  EXPECT_EQ(workflow_->Show(provider_, *rid)->record.route, "provider");
  EXPECT_EQ(workflow_->Decide(authority_, *rid, true, "").code(), Code::kPermissionDenied);
  ASSERT_TRUE(workflow_->Decide(provider_, *rid, true, "").ok());
  EXPECT_EQ(workflow_->Show(provider_, *rid)->record.state, "fulfilled");
  EXPECT_EQ(StateOf("84912345678"), "handed_over");
}

TEST_F(DevicesTest, R13_1_RecoveryNamesADeviceInItsHoldersHands) {
  const std::string cert = IssueNhung();
  // No device holds this certificate yet.
  auto none = FileTarget(focal_skhcn_, RequestKind::kRecover, cert);
  EXPECT_EQ(none.status().code(), Code::kInvalidArgument);
  EXPECT_NE(none.status().message().find("R13.1"), std::string::npos);
  PutDevice("TK-A", "token", "in_stock");
  auto stock = FileTarget(focal_skhcn_, RequestKind::kRecover, "", {{"device_serial", "TK-A"}});
  EXPECT_EQ(stock.status().code(), Code::kFailedPrecondition);
  PutDevice("TK-B", "token", "locked", cert);
  auto wrong = FileTarget(focal_skhcn_, RequestKind::kRecover, "", {{"device_serial", "TK-B"}, {"device", "sim"}});
  EXPECT_EQ(wrong.status().code(), Code::kInvalidArgument);
  // R15.2: another agency's focal person learns nothing about the device or the certificate.
  auto other = FileTarget(focal_snv_, RequestKind::kRecover, "", {{"device_serial", "TK-B"}});
  EXPECT_EQ(other.status().code(), Code::kPermissionDenied);
  EXPECT_NE(other.status().message().find("R15.2"), std::string::npos);
  EXPECT_EQ(FileTarget(focal_snv_, RequestKind::kRecover, cert).status().code(), Code::kPermissionDenied);
}

TEST_F(DevicesTest, R13_2_RecoveryIsDueTheNextWorkingDay) {
  const std::string cert = IssueNhung();
  PutDevice("TK-A", "token", "locked", cert);
  clock_.Set(Utc(2026, 11, 27, 2));  // Friday 27/11/2026 in Vietnam
  auto rid = FileTarget(focal_skhcn_, RequestKind::kRecover, cert);
  ASSERT_TRUE(rid.ok());
  EXPECT_EQ(workflow_->Show(provider_, *rid)->record.due_date, "2026-11-30");  // Monday
  clock_.Set(Utc(2026, 12, 1, 2));  // Tuesday: past due and still open
  auto overdue = workflow_->List(authority_, std::nullopt, true, 10, std::nullopt);
  ASSERT_EQ(overdue->size(), 1u);
  EXPECT_EQ((*overdue)[0].record.id, *rid);
}

TEST_F(DevicesTest, R12_3_RevokedCertificatesDeviceIsDueBackInFiveWorkingDays) {
  const int64_t id = FileApproved(Row("Trần Văn An", "079185000201"));
  const std::string cert = EnrolToken(id, "TK-A");
  ASSERT_TRUE(inventory_->Move(focal_skhcn_, "TK-A", "handed_over", {}).ok());
  EXPECT_FALSE(inventory_->Show(provider_, "TK-A")->return_due.has_value());  // still valid

  auto revoke = FileTarget(focal_skhcn_, RequestKind::kRevoke, cert, {}, "key-exposed");
  ASSERT_TRUE(revoke.ok());
  ASSERT_TRUE(workflow_->Decide(provider_, *revoke, true, "").ok());
  // Revoked Wednesday 25/11: five working days is Wednesday 2/12.
  auto view = inventory_->Show(provider_, "TK-A");
  ASSERT_EQ(view->return_due, std::optional<std::string>("2026-12-02"));
  EXPECT_FALSE(view->overdue);
  EXPECT_TRUE(inventory_->List(provider_, std::nullopt, true)->empty());
  clock_.Set(Utc(2026, 12, 3, 2));
  auto overdue = inventory_->List(provider_, std::nullopt, true);
  ASSERT_EQ(overdue->size(), 1u);
  EXPECT_EQ((*overdue)[0].device.serial, "TK-A");
  EXPECT_EQ(inventory_->List(focal_skhcn_, std::nullopt, true)->size(), 1u);
  EXPECT_TRUE(inventory_->List(focal_snv_, std::nullopt, true)->empty());

  // The holder gives it back; the agency returns it with Mẫu 08, which links the handover
  // request filed at revocation.
  ASSERT_TRUE(inventory_->Move(focal_skhcn_, "TK-A", "returned_to_agency", {}).ok());
  EXPECT_EQ(inventory_->Move(focal_skhcn_, "TK-A", "returned_to_provider", {}).code(), Code::kInvalidArgument);
  ASSERT_TRUE(inventory_->Move(focal_skhcn_, "TK-A", "returned_to_provider",
                               {{"receiver", "Cục Chứng thực số và Bảo mật thông tin"},
                                {"date", "2026-12-03"}, {"so_bien_ban", "08/2026"}})
                  .ok());
  EXPECT_TRUE(inventory_->List(provider_, std::nullopt, true)->empty());
  const store::DeviceEvent mau08 = store_->DeviceEvents("TK-A")->back();
  EXPECT_EQ(mau08.form, "mau08");
  EXPECT_EQ(mau08.certificate_serial, cert);
  EXPECT_EQ(mau08.holder, "Trần Văn An");
  EXPECT_EQ(mau08.agency_code, "SKHCN");
  EXPECT_EQ(mau08.date, "2026-12-03");
  EXPECT_EQ(mau08.receiver, "Cục Chứng thực số và Bảo mật thông tin");
  EXPECT_NE(mau08.extra.find("08/2026"), std::string::npos);
  ASSERT_TRUE(mau08.request_id.has_value());
  EXPECT_EQ(workflow_->Show(provider_, *mau08.request_id)->record.kind, "handover");
  EXPECT_EQ(workflow_->Show(provider_, *mau08.request_id)->record.parent_request, *revoke);
}

TEST_F(DevicesTest, R12_3_ExpiredCertificatesDeviceIsDueBackToo) {
  const int64_t id = FileApproved(Row("Trần Văn An", "079185000201"));
  const std::string cert = EnrolToken(id, "TK-A");
  ASSERT_TRUE(inventory_->Move(focal_skhcn_, "TK-A", "handed_over", {}).ok());
  const Time not_after = store_->GetCertificate(cert)->not_after;
  clock_.Set(not_after + std::chrono::hours(1));
  auto view = inventory_->Show(provider_, "TK-A");
  ASSERT_TRUE(view->return_due.has_value());
  EXPECT_GT(*view->return_due, FormatDate(LocalDate(not_after)));
  clock_.Set(not_after + std::chrono::days(15));
  EXPECT_EQ(inventory_->List(provider_, std::nullopt, true)->size(), 1u);
}

TEST_F(DevicesTest, R12_3_LostDeviceGetsAMau09Record) {
  const int64_t id = FileApproved(Row("Trần Văn An", "079185000201"));
  const std::string cert = EnrolToken(id, "TK-A");
  ASSERT_TRUE(inventory_->Move(focal_skhcn_, "TK-A", "handed_over", {}).ok());
  EXPECT_EQ(inventory_->Move(focal_skhcn_, "TK-A", "lost", {}).code(), Code::kInvalidArgument);
  ASSERT_TRUE(inventory_->Move(focal_skhcn_, "TK-A", "lost", {{"reason", "mất khi đi công tác"}}).ok());
  const store::DeviceEvent mau09 = store_->DeviceEvents("TK-A")->back();
  EXPECT_EQ(mau09.form, "mau09");
  EXPECT_EQ(mau09.reason, "mất khi đi công tác");
  EXPECT_EQ(mau09.certificate_serial, cert);
  // Lost is the end: nothing moves it again.
  for (const std::string& to : kAllStates) {
    EXPECT_FALSE(inventory_->Move(provider_, "TK-A", to, {{"reason", "x"}, {"receiver", "y"}}).ok()) << to;
  }
}

TEST_F(DevicesTest, R13_1_ALostDeviceIsNotRecovered) {
  const int64_t id = FileApproved(Row("Trần Văn An", "079185000201"));
  const std::string cert = EnrolToken(id, "TK-A");
  ASSERT_TRUE(inventory_->Move(focal_skhcn_, "TK-A", "handed_over", {}).ok());
  ASSERT_TRUE(inventory_->ObservePinState(focal_skhcn_, "TK-A", "locked").ok());
  auto rid = FileTarget(focal_skhcn_, RequestKind::kRecover, cert);
  ASSERT_TRUE(rid.ok());
  ASSERT_TRUE(workflow_->Decide(authority_, *rid, true, "").ok());
  // Reported lost after the approval: the recovery must not bring it back.
  ASSERT_TRUE(inventory_->Move(focal_skhcn_, "TK-A", "lost", {{"reason", "mất"}}).ok());
  const store::Device lost = *store_->GetDevice("TK-A");
  EXPECT_EQ(workflow_->CheckRecovery(authority_, *rid, lost).status().code(), Code::kFailedPrecondition);
  EXPECT_EQ(workflow_->CompleteRecovery(authority_, workflow_->Show(authority_, *rid)->record, lost).code(),
            Code::kFailedPrecondition);
  EXPECT_EQ(StateOf("TK-A"), "lost");
}

TEST_F(DevicesTest, R12_3_ARenewedCertificateMovesTheDeviceAlong) {
  const int64_t id = FileApproved(Row("Trần Văn An", "079185000201"));
  const std::string old_cert = EnrolToken(id, "TK-A");
  ASSERT_TRUE(inventory_->Move(focal_skhcn_, "TK-A", "handed_over", {}).ok());
  LeaveDays(old_cert, 60);
  auto renew = FileTarget(focal_skhcn_, RequestKind::kRenew, old_cert);
  ASSERT_TRUE(renew.ok()) << renew.status().ToString();
  ASSERT_TRUE(workflow_->Decide(authority_, *renew, true, "").ok());
  const std::string new_cert = workflow_->Show(authority_, *renew)->record.certificate_serials.at(0);
  EXPECT_EQ(store_->GetDevice("TK-A")->certificate_serial, new_cert);
  EXPECT_EQ(StateOf("TK-A"), "handed_over");
  // The old certificate expiring is no reason to bring back a token that holds the new one.
  clock_.Set(store_->GetCertificate(old_cert)->not_after + std::chrono::days(30));
  EXPECT_FALSE(inventory_->Show(provider_, "TK-A")->return_due.has_value());
  EXPECT_TRUE(inventory_->List(provider_, std::nullopt, true)->empty());
}

TEST_F(DevicesTest, TwoEnrolmentsOfTheSameRowIssueOnce) {
  const int64_t id = FileApproved(Row("Trần Văn An", "079185000201") + Row("Lê Thị Bình", "079185000202"));
  // Two officers read the same waiting row before either commits.
  auto first = workflow_->NextWaitingRow(provider_, id);
  auto second = workflow_->NextWaitingRow(provider_, id);
  ASSERT_TRUE(first.ok() && second.ok());
  auto enrol = [&](const Workflow::WaitingRow& row, const std::string& serial) {
    auto key = pkix::KeySigner::Generate("ec-p256");
    auto csr = pkix::ParseCertRequest(*pkix::MakeCertRequest(**key, row.name));
    PutDevice(serial, "token", "in_stock", "", "");
    store::DeviceChange change{*store_->GetDevice(serial), std::string(kInStock), {}};
    change.device.state = std::string(kPersonalised);
    return workflow_->Enrol(provider_, row, *csr, change);
  };
  ASSERT_TRUE(enrol(*first, "TK-1").ok());
  auto late = enrol(*second, "TK-2");
  ASSERT_FALSE(late.ok());
  EXPECT_NE(late.status().message().find("revoke it"), std::string::npos);  // names the orphan
  EXPECT_EQ(workflow_->Show(provider_, id)->record.certificate_serials.size(), 1u);
  EXPECT_EQ(StateOf("TK-2"), "in_stock");
  EXPECT_EQ(workflow_->NextWaitingRow(provider_, id)->index, 1u);  // the second row still waits
}

TEST_F(DevicesTest, R15_2_ARestockedDeviceKeepsNothingOfItsLastAgency) {
  PutDevice("TK-A", "token", "returned_to_provider", "", "SKHCN");
  store::DeviceChange c{*store_->GetDevice("TK-A"), std::string("returned_to_provider"), {}};
  c.event.agency_code = "SKHCN";
  c.event.holder = "Trần Văn An";
  c.event.form = "mau08";
  ASSERT_TRUE(store_->SaveDevice(c, "console").ok());
  ASSERT_TRUE(inventory_->Move(provider_, "TK-A", "in_stock", {}).ok());
  EXPECT_TRUE(store_->GetDevice("TK-A")->agency_code.empty());
  // Given to SNV later, its focal person does not read SKHCN's records of it.
  store::DeviceChange given{*store_->GetDevice("TK-A"), std::string("in_stock"), {}};
  given.device.state = "handed_over";
  given.device.agency_code = "SNV";
  given.event.agency_code = "SNV";
  ASSERT_TRUE(store_->SaveDevice(given, "console").ok());
  auto history = inventory_->History(focal_snv_, "TK-A");
  ASSERT_TRUE(history.ok());
  for (const store::DeviceEvent& e : *history) EXPECT_NE(e.holder, "Trần Văn An");
  EXPECT_GT(inventory_->History(provider_, "TK-A")->size(), history->size());
  // Nor can a record be tied to another agency's request.
  IssueNhung();  // a request filed by SKHCN
  const int64_t skhcn_request = workflow_->List(provider_, std::nullopt, false, 1, std::nullopt)->front().record.id;
  EXPECT_EQ(inventory_->Move(focal_snv_, "TK-A", "returned_to_agency", {{"request", std::to_string(skhcn_request)}}).code(),
            Code::kPermissionDenied);
  EXPECT_EQ(StateOf("TK-A"), "handed_over");
}

TEST_F(DevicesTest, AnAuditorReadsTokenStatesButRecordsNothing) {
  PutDevice("TK-A", "token", "handed_over");
  const Actor auditor{"kiem_toan", Role::kAuditor, ""};
  ASSERT_TRUE(inventory_->ObservePinState(auditor, "TK-A", "locked").ok());
  EXPECT_EQ(StateOf("TK-A"), "handed_over");
  EXPECT_EQ(EventCount("TK-A"), 1u);
}

TEST_F(DevicesTest, ConcurrentMoveFromAStateNoLongerHeldIsRefused) {
  PutDevice("TK-A", "token", "handed_over");
  store::Device stale = *store_->GetDevice("TK-A");
  ASSERT_TRUE(inventory_->Move(focal_skhcn_, "TK-A", "returned_to_agency", {}).ok());
  store::DeviceChange change{stale, stale.state, {}};
  change.device.state = "locked";
  EXPECT_EQ(store_->SaveDevice(change, "console").code(), Code::kFailedPrecondition);
  EXPECT_EQ(StateOf("TK-A"), "returned_to_agency");
  store::DeviceChange dup{stale, std::nullopt, {}};
  EXPECT_EQ(store_->SaveDevice(dup, "console").code(), Code::kAlreadyExists);
}

}  // namespace
}  // namespace kyso::ra
