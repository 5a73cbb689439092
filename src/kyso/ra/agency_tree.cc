#include "kyso/ra/agency_tree.h"

#include <set>

#include "kyso/ra/forms/forms.h"

namespace kyso::ra {

AgencyTree::AgencyTree(std::vector<store::Agency> agencies) {
  for (store::Agency& a : agencies) {
    std::string code = a.code;
    by_code_.emplace(std::move(code), std::move(a));
  }
}

const store::Agency* AgencyTree::Find(std::string_view key) const {
  if (auto it = by_code_.find(key); it != by_code_.end()) return &it->second;
  for (const auto& [code, a] : by_code_) {
    if (a.name == key) return &a;
  }
  return nullptr;
}

bool AgencyTree::Contains(std::string_view root, std::string_view code) const {
  // Walk up from `code`; the tree is checked acyclic on import, and the walk is bounded anyway.
  std::string_view cur = code;
  for (std::size_t steps = 0; steps <= by_code_.size() && !cur.empty(); ++steps) {
    if (cur == root) return true;
    auto it = by_code_.find(cur);
    if (it == by_code_.end()) return false;
    cur = it->second.parent_code;
  }
  return false;
}

std::vector<std::string> AgencyTree::Subtree(std::string_view root) const {
  std::vector<std::string> out;
  for (const auto& [code, a] : by_code_) {
    if (Contains(root, code)) out.push_back(code);
  }
  return out;
}

const store::Agency* AgencyTree::ManagingAgency(std::string_view code) const {
  std::string_view cur = code;
  for (std::size_t steps = 0; steps <= by_code_.size() && !cur.empty(); ++steps) {
    auto it = by_code_.find(cur);
    if (it == by_code_.end()) return nullptr;
    if (it->second.legal_entity) return &it->second;
    cur = it->second.parent_code;
  }
  return nullptr;
}

std::pair<std::string, std::vector<std::string>> AgencyTree::SubjectPath(std::string_view code) const {
  std::vector<const store::Agency*> path;  // bottom-up
  std::string_view cur = code;
  for (std::size_t steps = 0; steps <= by_code_.size() && !cur.empty(); ++steps) {
    auto it = by_code_.find(cur);
    if (it == by_code_.end()) break;
    path.push_back(&it->second);
    cur = it->second.parent_code;
  }
  std::vector<const store::Agency*> top_down(path.rbegin(), path.rend());
  if (top_down.size() > 1 &&
      (top_down.front()->kind == "ubnd_tinh" || top_down.front()->kind == "hdnd_tinh")) {
    top_down.erase(top_down.begin());
  }
  if (top_down.empty()) return {};
  std::vector<std::string> units;
  for (std::size_t i = 1; i < top_down.size() && units.size() < 3; ++i) {
    units.push_back(top_down[i]->name);
  }
  return {top_down.front()->name, units};
}

std::vector<std::string> AgencyTree::OfficialDomains(std::string_view code,
                                                     const std::vector<std::string>& fallback) const {
  const store::Agency* a = Find(code);
  if (a != nullptr && !a->email_domain.empty()) return {a->email_domain};
  return fallback;
}

Result<std::vector<store::Agency>> ParseAgencyCsv(std::string_view csv,
                                                  const std::vector<store::Agency>& existing) {
  KYSO_ASSIGN_OR_RETURN(auto table, forms::ReadCsv(csv, forms::Limits{}));
  const std::vector<std::string> kHeader = {"code", "parent_code", "name", "kind",
                                            "legal_entity", "email_domain", "exchange_code"};
  if (table.empty() || table[0] != kHeader) {
    return InvalidArgumentError(
        "dòng 1: tiêu đề phải là code,parent_code,name,kind,legal_entity,email_domain,exchange_code");
  }
  static const std::set<std::string, std::less<>> kKinds = {
      "ubnd_tinh", "hdnd_tinh", "so_ban_nganh", "chi_cuc", "don_vi_su_nghiep",
      "phong_ban", "ubnd_xa", "hdnd_xa"};
  std::vector<store::Agency> out;
  std::set<std::string, std::less<>> codes;
  for (const store::Agency& a : existing) codes.insert(a.code);
  std::set<std::string, std::less<>> seen;
  std::string errors;
  for (std::size_t i = 1; i < table.size(); ++i) {
    const auto& f = table[i];
    const std::string where = "dòng " + std::to_string(i + 1) + ": ";
    if (f.size() != kHeader.size()) {
      errors += where + "cần đúng 7 cột\n";
      continue;
    }
    store::Agency a{f[0], f[1], f[2], f[3], f[4] == "yes", f[5], f[6]};
    if (a.code.empty() || a.name.empty()) errors += where + "thiếu mã hoặc tên cơ quan\n";
    if (!kKinds.contains(a.kind)) errors += where + "loại cơ quan '" + a.kind + "' không hợp lệ\n";
    if (f[4] != "yes" && f[4] != "no") errors += where + "legal_entity phải là yes hoặc no\n";
    if (!seen.insert(a.code).second) errors += where + "mã " + a.code + " bị trùng\n";
    codes.insert(a.code);
    out.push_back(std::move(a));
  }
  for (std::size_t i = 0; i < out.size(); ++i) {
    if (!out[i].parent_code.empty() && !codes.contains(out[i].parent_code)) {
      errors += "dòng " + std::to_string(i + 2) + ": cơ quan cấp trên " + out[i].parent_code +
                " không có trong danh sách\n";
    }
  }
  if (errors.empty()) {
    // Cycles: every agency must reach a root.
    std::vector<store::Agency> all = existing;
    all.insert(all.end(), out.begin(), out.end());
    AgencyTree tree(all);
    for (std::size_t i = 0; i < out.size(); ++i) {
      std::string_view cur = out[i].code;
      std::size_t steps = 0;
      while (!cur.empty() && steps++ <= all.size()) {
        const store::Agency* a = tree.Find(cur);
        cur = a ? std::string_view(a->parent_code) : std::string_view();
      }
      if (!cur.empty()) errors += "dòng " + std::to_string(i + 2) + ": cây cơ quan có vòng lặp\n";
    }
  }
  if (!errors.empty()) {
    errors.pop_back();
    return InvalidArgumentError(errors);
  }
  return out;
}

bool InScope(const AgencyTree& tree, const Actor& actor, std::string_view agency_code) {
  switch (actor.role) {
    case Role::kConsole:
    case Role::kAdmin:
    case Role::kAuditor:
    case Role::kProvider:
    case Role::kAuthority:
      return true;
    case Role::kFocal:
      return !agency_code.empty() && tree.Contains(actor.agency_code, agency_code);
    case Role::kSubscriber:
      return false;
  }
  return false;
}

}  // namespace kyso::ra
