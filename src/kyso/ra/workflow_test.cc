#include "kyso/ra/workflow.h"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <fstream>
#include <sstream>

#include "kyso/base/temp_dir.h"
#include "kyso/ca/testing.h"
#include "kyso/pkix/x509.h"
#include "kyso/ra/password.h"
#include "kyso/ra/workflow_fixture.h"

namespace kyso::ra {
namespace {

TEST_F(WorkflowTest, LifecycleNewRenewChangeRevokeHandover) {
  // New: filed by the focal person, decided by the provider, fulfilled by the CA.
  const std::string first = IssueNhung();
  ASSERT_FALSE(first.empty());
  auto cert = pkix::ParseCertificate(store_->GetCertificate(first)->cert_der);
  EXPECT_EQ(pkix::NameUtf8(X509_get_subject_name(cert->get())),
            "emailAddress=nhung@dongnai.gov.vn,CN=Nguyễn Thị Hồng Nhung,OU=Phòng Chuyển đổi số,"
            "O=Sở Khoa học và Công nghệ,ST=Đồng Nai,C=VN");
  const Time first_end = store_->GetCertificate(first)->not_after;

  // Renewed once: R4.2 adds at most 3 years to the old notAfter, same key.
  LeaveDays(first, 60);
  auto renew = FileTarget(focal_skhcn_, RequestKind::kRenew, first);
  ASSERT_TRUE(renew.ok()) << renew.status().ToString();
  EXPECT_EQ(workflow_->Show(focal_skhcn_, *renew)->record.route, "authority");
  EXPECT_EQ(workflow_->Show(focal_skhcn_, *renew)->record.exchange_code, "H19.5");
  ASSERT_TRUE(workflow_->Decide(authority_, *renew, true, "").ok());
  const std::string second = workflow_->Show(focal_skhcn_, *renew)->record.certificate_serials.at(0);
  auto renewed = pkix::ParseCertificate(store_->GetCertificate(second)->cert_der);
  EXPECT_EQ(store_->GetCertificate(second)->not_after, AddYears(first_end, 3));
  EXPECT_EQ(EVP_PKEY_eq(X509_get0_pubkey(cert->get()), X509_get0_pubkey(renewed->get())), 1);

  // R10.1: the renewal's certificate is not renewed again.
  auto again = FileTarget(focal_skhcn_, RequestKind::kRenew, second);
  ASSERT_FALSE(again.ok());
  EXPECT_NE(again.status().message().find("R10.1"), std::string::npos);

  // R11.1: a change of information keeps notAfter; the old certificate is superseded.
  auto change = FileTarget(focal_skhcn_, RequestKind::kChange, second, {{"email", "nhung.nth@dongnai.gov.vn"}});
  ASSERT_TRUE(change.ok()) << change.status().ToString();
  ASSERT_TRUE(workflow_->Decide(authority_, *change, true, "").ok());
  const std::string third = workflow_->Show(focal_skhcn_, *change)->record.certificate_serials.at(0);
  EXPECT_EQ(store_->GetCertificate(third)->not_after, store_->GetCertificate(second)->not_after);
  EXPECT_EQ(store_->GetCertificate(second)->reason, pkix::CrlReason::kSuperseded);
  // R10.1 follows the lineage through the change.
  EXPECT_FALSE(FileTarget(focal_skhcn_, RequestKind::kRenew, third).ok());

  // Revoke: decided by the provider; the device-return obligation is filed (R12.3).
  auto revoke = FileTarget(focal_skhcn_, RequestKind::kRevoke, third, {}, "key-exposed");
  ASSERT_TRUE(revoke.ok()) << revoke.status().ToString();
  ASSERT_TRUE(workflow_->Decide(provider_, *revoke, true, "").ok());
  EXPECT_TRUE(store_->GetCertificate(third)->revoked_at.has_value());
  auto handovers = workflow_->List(focal_skhcn_, std::string("submitted"), false, 100, std::nullopt);
  ASSERT_EQ(handovers->size(), 1u);
  const store::RequestRecord& h = (*handovers)[0].record;
  EXPECT_EQ(h.kind, "handover");
  EXPECT_EQ(h.target_serial, third);
  EXPECT_EQ(h.parent_request, *revoke);
  // Filed on a Monday-to-Friday week: five working days later.
  const Date filed = LocalDate(clock_.Now());
  EXPECT_EQ(h.due_date, FormatDate(WorkingCalendar::VietnamDefault().AddWorkingDays(filed, 5)));
  EXPECT_FALSE(store_->VerifyAudit()->first_bad_id.has_value());
}

TEST_F(WorkflowTest, FileManyAndDecideManyAreAllOrNothing) {
  std::vector<FilingInput> inputs;
  for (int i = 0; i < 3; ++i) {
    FilingInput in = Input(RequestKind::kNewIndividual);
    in.rows_csv = std::string(kMau01Header) +
                  Mau01Row("Người Thứ " + std::to_string(i), "07918500013" + std::to_string(i),
                           "n" + std::to_string(i) + "@dongnai.gov.vn", "SKHCN", "csr" + std::to_string(i) + ".pem");
    inputs.push_back(std::move(in));
  }
  auto ids = workflow_->FileMany(focal_skhcn_, inputs);
  ASSERT_TRUE(ids.ok()) << ids.status().ToString();
  ASSERT_EQ(ids->size(), 3u);
  // One of them decided already: the batch is refused and nothing changes.
  ASSERT_TRUE(workflow_->Decide(provider_, (*ids)[1], false, "trùng").ok());
  EXPECT_FALSE(workflow_->DecideMany(provider_, *ids, true, "").ok());
  EXPECT_EQ(workflow_->Show(provider_, (*ids)[0])->record.state, "submitted");
  const int64_t rest[] = {(*ids)[0], (*ids)[2]};
  ASSERT_TRUE(workflow_->DecideMany(provider_, rest, true, "").ok());
  for (int64_t id : rest) {
    auto v = workflow_->Show(provider_, id);
    EXPECT_EQ(v->record.state, "fulfilled");
    EXPECT_EQ(v->record.certificate_serials.size(), 1u);
  }
  // A bad input among many files none of them.
  inputs[1].rows_csv = "garbage";
  EXPECT_FALSE(workflow_->FileMany(focal_skhcn_, inputs).ok());
  EXPECT_EQ(RequestCount(), 3u);
}

TEST_F(WorkflowTest, CloseAfterFulfilmentByTheDecidingRole) {
  IssueNhung();
  const int64_t id = (*workflow_->List(provider_, std::nullopt, false, 1, std::nullopt))[0].record.id;
  EXPECT_EQ(workflow_->Close(focal_skhcn_, id).code(), Code::kPermissionDenied);
  ASSERT_TRUE(workflow_->Close(provider_, id).ok());
  EXPECT_EQ(workflow_->Show(provider_, id)->record.state, "closed");
  EXPECT_EQ(workflow_->Close(provider_, id).code(), Code::kFailedPrecondition);
}

TEST_F(WorkflowTest, R12_3_LostDeviceGetsALossRecordInstead) {
  const std::string serial = IssueNhung();
  // A handover is for a device whose certificate ended; this one is still valid.
  EXPECT_NE(FileTarget(focal_skhcn_, RequestKind::kHandover, serial).status().message().find("R12.3"),
            std::string::npos);
  auto revoke = FileTarget(focal_skhcn_, RequestKind::kRevoke, serial, {}, "device-lost");
  ASSERT_TRUE(revoke.ok());
  ASSERT_TRUE(workflow_->Decide(provider_, *revoke, true, "").ok());
  auto open = workflow_->List(focal_skhcn_, std::string("submitted"), false, 10, std::nullopt);
  ASSERT_EQ(open->size(), 1u);
  EXPECT_EQ((*open)[0].record.kind, "lost");  // Mẫu 09, not Mẫu 08
  EXPECT_EQ((*open)[0].record.target_serial, serial);
  EXPECT_TRUE(FileTarget(focal_skhcn_, RequestKind::kHandover, serial).ok());  // now it may
}

TEST_F(WorkflowTest, R10_1_TheSameCertificateIsNotRenewedTwice) {
  const std::string serial = IssueNhung();
  LeaveDays(serial, 60);
  auto first = FileTarget(focal_skhcn_, RequestKind::kRenew, serial);
  ASSERT_TRUE(first.ok());
  ASSERT_TRUE(workflow_->Decide(authority_, *first, true, "").ok());
  auto second = FileTarget(focal_skhcn_, RequestKind::kRenew, serial);
  ASSERT_FALSE(second.ok());
  EXPECT_NE(second.status().message().find("R10.1"), std::string::npos);
}

TEST_F(WorkflowTest, R15_2_DeciderOfAnotherAgencyLearnsNothing) {
  const std::string serial = IssueNhung();
  auto r = FileTarget(focal_skhcn_, RequestKind::kRenew, serial);
  ASSERT_TRUE(r.ok());
  Status s = workflow_->Decide(focal_snv_, *r, true, "");
  EXPECT_NE(s.message().find("R15.2"), std::string::npos) << s.message();
}

TEST_F(WorkflowTest, R9_1_RoutingAndWrongDeciderRefused) {
  FilingInput in = Input(RequestKind::kNewIndividual);
  in.rows_csv = std::string(kMau01Header) +
                Mau01Row("Trần Minh Tuấn", "079185000124", "tuan@dongnai.gov.vn", "SKHCN", "csr1.pem");
  auto id = workflow_->File(focal_skhcn_, in);
  ASSERT_TRUE(id.ok()) << id.status().ToString();
  auto view = workflow_->Show(focal_skhcn_, *id);
  EXPECT_EQ(view->record.route, "provider");
  EXPECT_EQ(view->record.exchange_code, "G11.07.05");
  Status wrong = workflow_->Decide(authority_, *id, true, "");
  EXPECT_EQ(wrong.code(), Code::kPermissionDenied);
  EXPECT_NE(wrong.message().find("R9.1"), std::string::npos);
  EXPECT_EQ(workflow_->Show(focal_skhcn_, *id)->record.state, "submitted");
  EXPECT_EQ(workflow_->Decide(focal_skhcn_, *id, true, "").code(), Code::kPermissionDenied);
  // A rejection carries its reason.
  EXPECT_EQ(workflow_->Decide(provider_, *id, false, "").code(), Code::kInvalidArgument);
  ASSERT_TRUE(workflow_->Decide(provider_, *id, false, "thiếu văn bản đề nghị").ok());
  EXPECT_EQ(workflow_->Show(provider_, *id)->record.state, "rejected");
  EXPECT_EQ(workflow_->Show(provider_, *id)->record.reason, "thiếu văn bản đề nghị");
}

TEST_F(WorkflowTest, R13_1_RecoveryRoutedByDeviceType) {
  const std::string serial = IssueNhung();
  // The request names its device; the inventory knows its type.
  PutDevice("TK-0001", "token", "locked", serial);
  PutDevice("84912345678", "sim", "locked", serial);
  auto token = FileTarget(focal_skhcn_, RequestKind::kRecover, "", {{"device_serial", "TK-0001"}});
  auto sim = FileTarget(focal_skhcn_, RequestKind::kRecover, "", {{"device_serial", "84912345678"}});
  ASSERT_TRUE(token.ok() && sim.ok()) << token.status().ToString() << sim.status().ToString();
  EXPECT_EQ(workflow_->Show(provider_, *token)->record.route, "authority");
  EXPECT_EQ(workflow_->Show(provider_, *sim)->record.route, "provider");
  // R13.2: one working day for the authority (Wednesday -> Thursday).
  EXPECT_EQ(workflow_->Show(provider_, *token)->record.due_date, "2026-11-26");
}

TEST_F(WorkflowTest, R12_2_OnlyTheProviderRevokes) {
  const std::string serial = IssueNhung();
  auto id = FileTarget(focal_skhcn_, RequestKind::kRevoke, serial, {}, "key-exposed");
  ASSERT_TRUE(id.ok());
  Status s = workflow_->Decide(authority_, *id, true, "");
  EXPECT_EQ(s.code(), Code::kPermissionDenied);
  EXPECT_NE(s.message().find("R12.2"), std::string::npos);
  EXPECT_FALSE(store_->GetCertificate(serial)->revoked_at.has_value());
}

TEST_F(WorkflowTest, R12_1_ReasonMustFitTheSubscriber) {
  const std::string serial = IssueNhung();
  EXPECT_FALSE(FileTarget(focal_skhcn_, RequestKind::kRevoke, serial, {}, "dissolved").ok());
  EXPECT_FALSE(FileTarget(focal_skhcn_, RequestKind::kRevoke, serial, {}, "").ok());
  EXPECT_TRUE(FileTarget(focal_skhcn_, RequestKind::kRevoke, serial, {}, "retired").ok());
}

TEST_F(WorkflowTest, R10_2_RenewalNeedsThirtyDaysLeft) {
  const std::string serial = IssueNhung();
  LeaveDays(serial, 29);
  auto r = FileTarget(focal_skhcn_, RequestKind::kRenew, serial);
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find("R10.2"), std::string::npos);
}

TEST_F(WorkflowTest, R10_2_CheckedAgainWhenDecided) {
  const std::string serial = IssueNhung();
  LeaveDays(serial, 31);
  auto r = FileTarget(focal_skhcn_, RequestKind::kRenew, serial);
  ASSERT_TRUE(r.ok());
  clock_.Advance(std::chrono::days(3));  // the request waited; now 28 days left
  Status s = workflow_->Decide(authority_, *r, true, "");
  EXPECT_NE(s.message().find("R10.2"), std::string::npos);
  EXPECT_EQ(workflow_->Show(authority_, *r)->record.state, "submitted");
}

TEST_F(WorkflowTest, R11_1_ChangeNeedsThirtyDaysLeft) {
  const std::string serial = IssueNhung();
  LeaveDays(serial, 20);
  auto r = FileTarget(focal_skhcn_, RequestKind::kChange, serial, {{"email", "x@dongnai.gov.vn"}});
  EXPECT_NE(r.status().message().find("R11.1"), std::string::npos);
}

TEST_F(WorkflowTest, R11_2_ChangeCasesAndSameDataRefused) {
  const std::string serial = IssueNhung();
  auto same = FileTarget(focal_skhcn_, RequestKind::kChange, serial, {{"email", "nhung@dongnai.gov.vn"}});
  EXPECT_NE(same.status().message().find("R11.2"), std::string::npos);
  auto wrong = FileTarget(focal_skhcn_, RequestKind::kChange, serial, {{"address", "x"}});
  EXPECT_NE(wrong.status().message().find("R11.2"), std::string::npos);
  auto none = FileTarget(focal_skhcn_, RequestKind::kChange, serial);
  EXPECT_NE(none.status().message().find("R11.2"), std::string::npos);
  EXPECT_TRUE(FileTarget(focal_skhcn_, RequestKind::kChange, serial, {{"agency", "SKHCN.VP"}}).ok());
}

TEST_F(WorkflowTest, R15_2_FocalPersonStaysInOwnSubtree) {
  const std::string serial = IssueNhung();
  auto requests = workflow_->List(focal_skhcn_, std::nullopt, false, 100, std::nullopt);
  ASSERT_EQ(requests->size(), 1u);
  const int64_t id = (*requests)[0].record.id;
  EXPECT_EQ(workflow_->Show(focal_snv_, id).status().code(), Code::kPermissionDenied);
  EXPECT_TRUE(workflow_->List(focal_snv_, std::nullopt, false, 100, std::nullopt)->empty());
  EXPECT_EQ(workflow_->Cancel(focal_snv_, id).code(), Code::kPermissionDenied);
  for (RequestKind k : {RequestKind::kRenew, RequestKind::kChange, RequestKind::kRevoke,
                        RequestKind::kHandover, RequestKind::kLost}) {
    auto r = FileTarget(focal_snv_, k, serial, {{"email", "x@dongnai.gov.vn"}}, "key-exposed");
    EXPECT_EQ(r.status().code(), Code::kPermissionDenied) << RequestKindName(k);
  }
  // Filing for a person of another agency is refused too.
  FilingInput in = Input(RequestKind::kNewIndividual);
  in.rows_csv = std::string(kMau01Header) +
                Mau01Row("Lê Văn Tám", "079185000125", "tam@dongnai.gov.vn", "SKHCN.CDS", "csr1.pem");
  auto other = workflow_->File(focal_snv_, in);
  EXPECT_NE(other.status().message().find("R15.2"), std::string::npos);
}

TEST_F(WorkflowTest, R3_6_OnlyAManagingAgencyFiles) {
  FilingInput in = Input(RequestKind::kNewIndividual);
  in.rows_csv = std::string(kMau01Header) +
                Mau01Row("Lê Văn Tám", "079185000125", "tam@dongnai.gov.vn", "SKHCN.CDS", "csr1.pem");
  const Actor subscriber{"tam", Role::kSubscriber, "SKHCN.CDS"};
  EXPECT_NE(workflow_->File(subscriber, in).status().message().find("R3.6"), std::string::npos);
  const Actor focal_of_division{"x", Role::kFocal, "SKHCN.CDS"};  // no legal personality
  EXPECT_NE(workflow_->File(focal_of_division, in).status().message().find("R3.6"), std::string::npos);
  EXPECT_EQ(RequestCount(), 0u);
}

TEST_F(WorkflowTest, R2_1_AgencyOutsideTheTreeCannotFile) {
  FilingInput in = Input(RequestKind::kNewIndividual);
  in.rows_csv = std::string(kMau01Header) +
                Mau01Row("Lê Văn Tám", "079185000125", "tam@dongnai.gov.vn", "BINHDUONG", "csr1.pem");
  const Actor outsider{"x", Role::kFocal, "BINHDUONG"};
  EXPECT_NE(workflow_->File(outsider, in).status().message().find("R2.1"), std::string::npos);
  auto row_outside = workflow_->File(focal_skhcn_, in);
  EXPECT_NE(row_outside.status().message().find("R2.1"), std::string::npos);
  EXPECT_EQ(RequestCount(), 0u);
}

TEST_F(WorkflowTest, R9_2_PersonMustWorkUnderTheFilingAgency) {
  FilingInput in = Input(RequestKind::kNewIndividual);
  in.rows_csv = std::string(kMau01Header) +
                Mau01Row("Lê Văn Tám", "079185000125", "tam@dongnai.gov.vn", "SYT.BVDK", "csr1.pem");
  EXPECT_FALSE(workflow_->File(focal_skhcn_, in).ok());
  EXPECT_EQ(RequestCount(), 0u);
}

TEST_F(WorkflowTest, R9_5_OfficialEmailDomain) {
  FilingInput in = Input(RequestKind::kNewIndividual);
  in.rows_csv = std::string(kMau01Header) +
                Mau01Row("Lê Văn Tám", "079185000125", "tam@gmail.com", "SKHCN", "csr1.pem");
  auto r = workflow_->File(focal_skhcn_, in);
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find("R9.5"), std::string::npos);
  EXPECT_EQ(RequestCount(), 0u);
}

TEST_F(WorkflowTest, R9_6_EveryBadRowReportedNothingStored) {
  FilingInput in = Input(RequestKind::kNewIndividual);
  in.rows_csv = std::string(kMau01Header) +
                Mau01Row("Lê Văn Tám", "12345", "tam@dongnai.gov.vn", "SKHCN", "csr1.pem") +
                Mau01Row("Lê Văn Tư", "079185000126", "tu@dongnai.gov.vn", "SKHCN", "csr2.pem") +
                Mau01Row("Lê Văn Năm", "079185000127", "nam.dongnai.gov.vn", "SKHCN", "csr3.pem");
  auto r = workflow_->File(focal_skhcn_, in);
  ASSERT_FALSE(r.ok());
  const std::string& m = r.status().message();
  EXPECT_NE(m.find("Dòng 2, cột cccd"), std::string::npos) << m;
  EXPECT_NE(m.find("Dòng 4, cột email"), std::string::npos) << m;
  EXPECT_EQ(RequestCount(), 0u);
  // Once the form is clean, the rules' checks report every row too.
  in.rows_csv = std::string(kMau01Header) +
                Mau01Row("Lê Văn Tám", "079185000125", "tam@gmail.com", "SKHCN", "csr1.pem") +
                Mau01Row("Lê Văn Tư", "079185000126", "tu@dongnai.gov.vn", "SKHCN", "csr2.pem") +
                Mau01Row("Lê Văn Năm", "079185000127", "nam@dongnai.gov.vn", "SKHCN", "missing.pem");
  r = workflow_->File(focal_skhcn_, in);
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find("Dòng 2, cột email"), std::string::npos) << r.status().message();
  EXPECT_NE(r.status().message().find("Dòng 4, cột csr"), std::string::npos) << r.status().message();
  EXPECT_EQ(RequestCount(), 0u);
}

TEST_F(WorkflowTest, R9_3_OrganisationNeedsFoundingDecision) {
  FilingInput in = Input(RequestKind::kNewOrganization);
  in.rows_csv = "ten,dia_chi,ma_so_thue,ma_qhns,tinh,email,csr\n"
                "Trung tâm Chuyển đổi số,\"Số 2, Biên Hòa\",3600123456,1234567,Đồng Nai,ttcds@dongnai.gov.vn,csr1.pem\n";
  auto missing = workflow_->File(focal_skhcn_, in);
  EXPECT_NE(missing.status().message().find("R9.3"), std::string::npos);
  in.fields["founding_decision"] = "123/QĐ-UBND";
  auto ok = workflow_->File(focal_skhcn_, in);
  ASSERT_TRUE(ok.ok()) << ok.status().ToString();
  ASSERT_TRUE(workflow_->Decide(provider_, *ok, true, "").ok());
  EXPECT_EQ(workflow_->Show(provider_, *ok)->record.state, "fulfilled");
  // A division without legal personality is not an organisation subscriber.
  in.rows_csv = "ten,dia_chi,ma_so_thue,ma_qhns,tinh,email\n"
                "SKHCN.CDS,Biên Hòa,3600123456,1234567,Đồng Nai,cds@dongnai.gov.vn\n";
  EXPECT_NE(workflow_->File(focal_skhcn_, in).status().message().find("R9.3"), std::string::npos);
}

TEST_F(WorkflowTest, R9_4_DeviceOwnedByALegalEntity) {
  FilingInput in = Input(RequestKind::kNewDevice);
  in.fields = {{"name", "Cổng dịch vụ công tỉnh"}, {"email", "dvc@dongnai.gov.vn"},
               {"owner", "SKHCN.CDS"}, {"csr", "csr1.pem"}};
  EXPECT_NE(workflow_->File(focal_skhcn_, in).status().message().find("R9.4"), std::string::npos);
  in.fields["owner"] = "SKHCN.TTCDS";
  auto ok = workflow_->File(focal_skhcn_, in);
  ASSERT_TRUE(ok.ok()) << ok.status().ToString();
  ASSERT_TRUE(workflow_->Decide(provider_, *ok, true, "").ok());
  const std::string serial = workflow_->Show(provider_, *ok)->record.certificate_serials.at(0);
  EXPECT_EQ(store_->GetCertificate(serial)->profile, "device");
}

TEST_F(WorkflowTest, ApprovedWithoutCsrWaitsForTheDevice) {
  FilingInput in = Input(RequestKind::kNewIndividual);
  in.rows_csv = std::string(kMau01Header) +
                Mau01Row("Lê Văn Tám", "079185000125", "tam@dongnai.gov.vn", "SKHCN", "");
  auto id = workflow_->File(focal_skhcn_, in);
  ASSERT_TRUE(id.ok()) << id.status().ToString();
  ASSERT_TRUE(workflow_->Decide(provider_, *id, true, "").ok());
  EXPECT_EQ(workflow_->Show(provider_, *id)->record.state, "approved");
}

TEST_F(WorkflowTest, R14_1_DueDateAndOverdue) {
  FilingInput in = Input(RequestKind::kNewIndividual);
  in.rows_csv = std::string(kMau01Header) +
                Mau01Row("Lê Văn Tám", "079185000125", "tam@dongnai.gov.vn", "SKHCN", "csr1.pem");
  auto id = workflow_->File(focal_skhcn_, in);
  ASSERT_TRUE(id.ok());
  // Wednesday 25/11/2026 + 3 working days = Monday 30/11/2026.
  EXPECT_EQ(workflow_->Show(provider_, *id)->record.due_date, "2026-11-30");
  EXPECT_TRUE(workflow_->List(provider_, std::nullopt, true, 100, std::nullopt)->empty());
  clock_.Advance(std::chrono::days(6));  // Tuesday 1/12
  auto overdue = workflow_->List(provider_, std::nullopt, true, 100, std::nullopt);
  ASSERT_EQ(overdue->size(), 1u);
  EXPECT_TRUE((*overdue)[0].overdue);
}

TEST_F(WorkflowTest, R14_1_HolidaysFromTheConfig) {
  // A deployment declares Thursday 26/11/2026 a day off: three working days from Wednesday
  // 25/11 end on Tuesday 1/12 instead of Monday 30/11.
  config_.ra.holidays = {"2026-11-26"};
  Workflow wf(config_, *store_, ca_.get(), clock_);
  ASSERT_TRUE(wf.Load().ok());
  FilingInput in = Input(RequestKind::kNewIndividual);
  in.rows_csv = std::string(kMau01Header) +
                Mau01Row("Lê Văn Tám", "079185000125", "tam@dongnai.gov.vn", "SKHCN", "csr1.pem");
  auto id = wf.File(focal_skhcn_, in);
  ASSERT_TRUE(id.ok());
  EXPECT_EQ(wf.Show(provider_, *id)->record.due_date, "2026-12-01");
  config_.ra.holidays = {"26/11/2026"};
  Workflow bad(config_, *store_, ca_.get(), clock_);
  EXPECT_EQ(bad.Load().code(), Code::kInvalidArgument);
}

TEST(PasswordTest, R14_2_Argon2idRoundTrip) {
  auto hash = HashPassword(SecretString("mật-khẩu-đủ-dài"));
  ASSERT_TRUE(hash.ok());
  EXPECT_TRUE(hash->starts_with("$argon2id$"));
  EXPECT_TRUE(VerifyPassword(SecretString("mật-khẩu-đủ-dài"), *hash));
  EXPECT_FALSE(VerifyPassword(SecretString("mật-khẩu-sai"), *hash));
  EXPECT_FALSE(HashPassword(SecretString("short")).ok());
}

TEST(AgencyCsvTest, R2_1_BadLinesReportedAndCyclesRefused) {
  auto ok = ParseAgencyCsv(ReadDemoAgencies(), {});
  ASSERT_TRUE(ok.ok());
  EXPECT_EQ(ok->size(), 35u);
  auto bad = ParseAgencyCsv("code,parent_code,name,kind,legal_entity,email_domain,exchange_code\n"
                            "A,B,Alpha,so_ban_nganh,yes,,\nB,A,Beta,so_ban_nganh,maybe,,\n", {});
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.status().message().find("legal_entity"), std::string::npos);
  auto cycle = ParseAgencyCsv("code,parent_code,name,kind,legal_entity,email_domain,exchange_code\n"
                              "A,B,Alpha,so_ban_nganh,yes,,\nB,A,Beta,so_ban_nganh,yes,,\n", {});
  ASSERT_FALSE(cycle.ok());
  EXPECT_NE(cycle.status().message().find("vòng lặp"), std::string::npos);
}

}  // namespace
}  // namespace kyso::ra
