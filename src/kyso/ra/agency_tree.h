#pragma once

#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "kyso/base/status.h"
#include "kyso/ra/actor.h"
#include "kyso/store/registry.h"

namespace kyso::ra {

// InScope is R15.2's one question: may `actor` see what belongs to `agency_code`? The
// province's roles (provider, authority, auditor, admin, console) see everything; a focal
// person only their own agency's subtree; a subscriber nothing.
class AgencyTree;
bool InScope(const AgencyTree& tree, const Actor& actor, std::string_view agency_code);

// AgencyTree is the province's tree of bodies (R2.1), with the questions the rules ask of it.
class AgencyTree final {
 public:
  explicit AgencyTree(std::vector<store::Agency> agencies);

  // Find looks an agency up by code, or by its exact name; nullptr when it is not in the
  // province's tree (R2.1).
  const store::Agency* Find(std::string_view code_or_name) const;
  // Contains: `code` is `root` or below it.
  bool Contains(std::string_view root, std::string_view code) const;
  // Subtree: `root` and every agency below it.
  std::vector<std::string> Subtree(std::string_view root) const;
  // ManagingAgency: the nearest body at or above `code` with legal personality (R3.6).
  const store::Agency* ManagingAgency(std::string_view code) const;
  // SubjectPath gives O and OU for a certificate (R7.1): the levels from the top down to
  // `code`, without the provincial People's Committee or Council at the top when there are
  // levels below it; O is the first, OU at most the next three.
  std::pair<std::string, std::vector<std::string>> SubjectPath(std::string_view code) const;
  // OfficialDomains: the agency's email_domain when set, else `fallback` (R9.5).
  std::vector<std::string> OfficialDomains(std::string_view code,
                                           const std::vector<std::string>& fallback) const;
  std::size_t size() const { return by_code_.size(); }

 private:
  std::map<std::string, store::Agency, std::less<>> by_code_;
};

// ParseAgencyCsv reads the agencies CSV (`code,parent_code,name,kind,legal_entity,
// email_domain,exchange_code`, header row, UTF-8). Every bad line is reported; a parent that
// is neither in the file nor in `existing` is an error, and so is a cycle.
Result<std::vector<store::Agency>> ParseAgencyCsv(std::string_view csv,
                                                  const std::vector<store::Agency>& existing);

}  // namespace kyso::ra
