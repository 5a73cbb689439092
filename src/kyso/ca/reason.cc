#include "kyso/ca/reason.h"

namespace kyso::ca {

namespace {

using pkix::CrlReason;

// R12.1: the cases of ND68 Art. 17, mapped to RFC 5280 5.3.1 codes. A lost, damaged or
// otherwise unsafe device means the key can no longer be trusted, so it is keyCompromise;
// a subscriber that no longer needs the certificate is cessationOfOperation; a change of
// position is affiliationChanged; a request of prosecuting bodies is privilegeWithdrawn.
constexpr RevocationReason kReasons[] = {
    {"unspecified", CrlReason::kUnspecified, std::nullopt, "không nêu lý do"},
    {"keyCompromise", CrlReason::kKeyCompromise, std::nullopt, "lộ khóa bí mật"},
    {"cACompromise", CrlReason::kCaCompromise, std::nullopt, "lộ khóa của CA"},
    {"affiliationChanged", CrlReason::kAffiliationChanged, std::nullopt, "thay đổi thông tin"},
    {"superseded", CrlReason::kSuperseded, std::nullopt, "được thay thế"},
    {"cessationOfOperation", CrlReason::kCessationOfOperation, std::nullopt, "ngừng sử dụng"},
    {"privilegeWithdrawn", CrlReason::kPrivilegeWithdrawn, std::nullopt, "bị rút quyền"},
    // R12.1, for every subscriber
    {"expired", CrlReason::kCessationOfOperation, std::nullopt, "chứng thư hết hạn"},
    {"key-exposed", CrlReason::kKeyCompromise, std::nullopt,
     "khóa bí mật bị lộ hoặc nghi bị lộ"},
    {"device-lost", CrlReason::kKeyCompromise, std::nullopt, "thiết bị lưu khóa bị thất lạc"},
    {"device-damaged", CrlReason::kKeyCompromise, std::nullopt, "thiết bị lưu khóa bị hư hỏng"},
    {"device-unsafe", CrlReason::kKeyCompromise, std::nullopt,
     "thiết bị lưu khóa không còn an toàn"},
    {"police-request", CrlReason::kPrivilegeWithdrawn, std::nullopt,
     "theo yêu cầu của cơ quan tiến hành tố tụng, cơ quan công an"},
    {"agency-request", CrlReason::kCessationOfOperation, std::nullopt,
     "theo yêu cầu của cơ quan, tổ chức quản lý trực tiếp"},
    // R12.1, individuals
    {"position-changed", CrlReason::kAffiliationChanged, Profile::kIndividual,
     "thay đổi vị trí công tác không còn phù hợp"},
    {"retired", CrlReason::kCessationOfOperation, Profile::kIndividual, "nghỉ hưu"},
    {"resigned", CrlReason::kCessationOfOperation, Profile::kIndividual, "thôi việc"},
    {"deceased", CrlReason::kCessationOfOperation, Profile::kIndividual, "qua đời"},
    // R12.1, organisations
    {"dissolved", CrlReason::kCessationOfOperation, Profile::kOrganization, "giải thể"},
    {"split", CrlReason::kCessationOfOperation, Profile::kOrganization, "chia, tách"},
    {"merged", CrlReason::kCessationOfOperation, Profile::kOrganization, "sáp nhập, hợp nhất"},
    // R12.1, devices, services and software
    {"stopped", CrlReason::kCessationOfOperation, Profile::kDevice, "ngừng hoạt động"},
};

}  // namespace

Result<RevocationReason> ParseReason(std::string_view name) {
  for (const RevocationReason& r : kReasons) {
    if (r.name == name) return r;
  }
  return InvalidArgumentError("R12.1: unknown revocation reason '" + std::string(name) + "' (" +
                              ReasonNames() + ")");
}

Status CheckReasonFits(const RevocationReason& reason, std::string_view profile) {
  if (reason.only_for && ProfileName(*reason.only_for) != profile) {
    return InvalidArgumentError("R12.1: reason '" + std::string(reason.name) + "' applies to " +
                                std::string(ProfileName(*reason.only_for)) +
                                " certificates, not " + std::string(profile));
  }
  return OkStatus();
}

std::string_view ReasonName(pkix::CrlReason code) {
  for (const RevocationReason& r : kReasons) {
    if (r.code == code) return r.name;  // RFC names come first in the table
  }
  return "unspecified";
}

std::string ReasonNames() {
  std::string out;
  for (const RevocationReason& r : kReasons) {
    out += (out.empty() ? "" : ", ") + std::string(r.name);
  }
  return out;
}

}  // namespace kyso::ca
