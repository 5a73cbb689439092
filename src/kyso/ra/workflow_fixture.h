#pragma once

// The fixture of the workflow's and the inventory's tests: a store in a temp folder, a test
// CA, the demo agencies, a fixed clock and one actor per role. Test-only.

#include <gtest/gtest.h>

#include <fstream>
#include <map>
#include <memory>
#include <sstream>
#include <string>

#include "kyso/base/temp_dir.h"
#include "kyso/ca/testing.h"
#include "kyso/ra/workflow.h"

namespace kyso::ra {

inline std::string ReadDemoAgencies() {
  std::ifstream in(std::string(KYSO_SOURCE_DIR) + "/../shared/domain/demo-agencies.csv");
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

inline constexpr const char* kMau01Header =
    "ho_ten,ngay_sinh,cccd,ngay_cap,noi_cap,email,co_quan,tinh,chuc_vu,dien_thoai,serial_cu,sim_pki,csr\n";

inline std::string Mau01Row(const std::string& name, const std::string& cccd, const std::string& email,
                     const std::string& agency, const std::string& csr) {
  return name + ",15/03/1985," + cccd + ",10/05/2021,Cục Cảnh sát QLHC về TTXH," + email + "," +
         agency + ",Đồng Nai,Chuyên viên,0912345678,,," + csr + "\n";
}

class WorkflowTest : public testing::Test {
 protected:
  void SetUp() override {
    store_ = std::move(store::OpenSqliteStore((dir_ / "kyso.db").string(), clock_)).value();
    config_.ca.root_key = KeySpec::kEcP256;
    config_.ca.issuing_key = KeySpec::kEcP256;
    config_.ca.ocsp_key = KeySpec::kEcP256;
    auto ca = ca::testing::MakeTestAuthority(config_, *store_, clock_);
    ASSERT_TRUE(ca.ok()) << ca.status().ToString();
    ca_ = std::move(ca).value();
    auto agencies = ParseAgencyCsv(ReadDemoAgencies(), {});
    ASSERT_TRUE(agencies.ok()) << agencies.status().ToString();
    ASSERT_TRUE(store_->UpsertAgencies(*agencies, "console").ok());
    workflow_ = std::make_unique<Workflow>(config_, *store_, ca_.get(), clock_);
    ASSERT_TRUE(workflow_->Load().ok());
    for (int i = 0; i < 4; ++i) files_["csr" + std::to_string(i) + ".pem"] = ca::testing::CsrPem();
  }

  FilingInput Input(RequestKind kind) {
    FilingInput in;
    in.kind = kind;
    in.read_file = [this](const std::string& path) -> Result<std::string> {
      auto it = files_.find(path);
      if (it == files_.end()) return NotFoundError("no file " + path);
      return it->second;
    };
    return in;
  }

  // NewIndividual files and approves one person at SKHCN.CDS; returns the serial.
  std::string IssueNhung() {
    FilingInput in = Input(RequestKind::kNewIndividual);
    in.rows_csv = std::string(kMau01Header) +
                  Mau01Row("Nguyễn Thị Hồng Nhung", "079185000123", "nhung@dongnai.gov.vn",
                           "SKHCN.CDS", "csr0.pem");
    auto id = workflow_->File(focal_skhcn_, in);
    EXPECT_TRUE(id.ok()) << id.status().ToString();
    Status s = workflow_->Decide(provider_, *id, true, "");
    EXPECT_TRUE(s.ok()) << s.ToString();
    auto view = workflow_->Show(focal_skhcn_, *id);
    EXPECT_EQ(view->record.state, "fulfilled");
    EXPECT_EQ(view->record.certificate_serials.size(), 1u);
    return view->record.certificate_serials.empty() ? "" : view->record.certificate_serials[0];
  }

  Result<int64_t> FileTarget(const Actor& who, RequestKind kind, const std::string& serial,
                             std::map<std::string, std::string> fields = {}, std::string reason = "") {
    FilingInput in = Input(kind);
    in.target_serial = serial;
    in.fields = std::move(fields);
    in.reason = std::move(reason);
    return workflow_->File(who, in);
  }

  // LeaveDays sets the clock so that `serial` has `days` days of validity left.
  void LeaveDays(const std::string& serial, int days) {
    clock_.Set(store_->GetCertificate(serial)->not_after - std::chrono::days(days));
  }

  // PutDevice puts a device straight into the store, in any state, holding `cert_serial`.
  void PutDevice(const std::string& serial, const std::string& type, const std::string& state,
                 const std::string& cert_serial = "", const std::string& agency = "SKHCN") {
    store::Device d;
    d.serial = serial;
    d.type = type;
    d.state = state;
    d.certificate_serial = cert_serial;
    d.agency_code = agency;
    if (type == "sim") d.phone = serial;
    Status s = store_->SaveDevice(store::DeviceChange{d, std::nullopt, {}}, "console");
    ASSERT_TRUE(s.ok()) << s.ToString();
  }

  std::size_t RequestCount() { return store_->ListRequests(store::RequestFilter{})->size(); }

  TempDir dir_{"kyso-ra"};
  FakeClock clock_{Utc(2026, 11, 25, 2)};  // Wednesday 25/11/2026, 09:00 in Vietnam
  Config config_;
  std::unique_ptr<store::Store> store_;
  std::unique_ptr<ca::Authority> ca_;
  std::unique_ptr<Workflow> workflow_;
  std::map<std::string, std::string> files_;
  const Actor focal_skhcn_{"dau_moi_skhcn", Role::kFocal, "SKHCN"};
  const Actor focal_snv_{"dau_moi_snv", Role::kFocal, "SNV"};
  const Actor provider_{"cuc_ctsbmtt", Role::kProvider, ""};
  const Actor authority_{"so_khcn", Role::kAuthority, ""};
};

}  // namespace kyso::ra
