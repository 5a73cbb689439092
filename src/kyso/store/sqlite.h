#pragma once

#include <sqlite3.h>

#include <optional>
#include <string>
#include <string_view>

#include "kyso/base/bytes.h"
#include "kyso/base/status.h"

namespace kyso::store::sqlite {

// Db owns one connection.
class Db final {
 public:
  static Result<Db> Open(const std::string& path);
  Db(Db&& o) noexcept : db_(std::exchange(o.db_, nullptr)) {}
  Db(const Db&) = delete;
  ~Db();
  sqlite3* get() const { return db_; }
  Status Exec(std::string_view sql);
  Status Error(std::string_view what) const;

 private:
  explicit Db(sqlite3* db) : db_(db) {}
  sqlite3* db_;
};

// Stmt is one prepared statement; Bind* take 1-based indexes, Column* 0-based.
class Stmt final {
 public:
  static Result<Stmt> Prepare(const Db& db, std::string_view sql);
  Stmt(Stmt&& o) noexcept : db_(o.db_), stmt_(std::exchange(o.stmt_, nullptr)) {}
  Stmt(const Stmt&) = delete;
  ~Stmt();

  Stmt& Bind(int i, int64_t v);
  Stmt& Bind(int i, std::string_view v);
  Stmt& Bind(int i, ByteSpan v);
  Stmt& BindNull(int i);
  // Step returns true for a row, false when done.
  Result<bool> Step();
  Status Run();  // Step to completion, expecting no rows
  void Reset();

  int64_t Int(int col) const { return sqlite3_column_int64(stmt_, col); }
  bool IsNull(int col) const { return sqlite3_column_type(stmt_, col) == SQLITE_NULL; }
  std::string Text(int col) const;
  Bytes Blob(int col) const;

 private:
  Stmt(const Db* db, sqlite3_stmt* s) : db_(db), stmt_(s) {}
  const Db* db_;
  sqlite3_stmt* stmt_;
};

// Txn is BEGIN IMMEDIATE ... COMMIT; it rolls back unless Commit succeeded.
class Txn final {
 public:
  static Result<Txn> Begin(Db& db);
  Txn(Txn&& o) noexcept : db_(std::exchange(o.db_, nullptr)) {}
  ~Txn();
  Status Commit();

 private:
  explicit Txn(Db* db) : db_(db) {}
  Db* db_;
};

}  // namespace kyso::store::sqlite
