#include "store/sql_database.h"

namespace slipway {

int64_t SqlRow::Int(size_t i) const { return OptInt(i).value_or(0); }

std::optional<int64_t> SqlRow::OptInt(size_t i) const {
  const SqlValue& v = values_[i];
  if (v.kind == SqlValue::Kind::kInt) return v.integer;
  if (v.kind == SqlValue::Kind::kText) {
    try {
      return std::stoll(v.text);
    } catch (const std::exception&) {
      return std::nullopt;
    }
  }
  return std::nullopt;
}

std::string SqlRow::Text(size_t i) const {
  const SqlValue& v = values_[i];
  if (v.kind == SqlValue::Kind::kInt) return std::to_string(v.integer);
  return v.text;
}

SqlTransaction::~SqlTransaction() {
  if (open_) (void)db_->ExecScript("ROLLBACK");
}

Status SqlTransaction::Begin() {
  Status s = db_->Begin();
  open_ = s.ok();
  return s;
}

Status SqlTransaction::Commit() {
  Status s = db_->ExecScript("COMMIT");
  if (s.ok()) open_ = false;
  return s;
}

}  // namespace slipway
