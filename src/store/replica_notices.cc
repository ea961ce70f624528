#include "store/replica_notices.h"

namespace slipway {
namespace {

struct Word {
  ReplicaNotice::Kind kind;
  std::string_view text;
};
constexpr Word kWords[] = {
    {ReplicaNotice::Kind::kFree, "free"},        {ReplicaNotice::Kind::kRequest, "request"},
    {ReplicaNotice::Kind::kRequestDone, "done"}, {ReplicaNotice::Kind::kChanged, "changed"},
    {ReplicaNotice::Kind::kLog, "log"},
};

}  // namespace

std::string NoticePayload(const ReplicaNotice& notice) {
  for (const Word& word : kWords) {
    if (word.kind == notice.kind) return std::string(word.text) + ":" + std::to_string(notice.id);
  }
  return "missed:0";  // Never sent: ParseNotice refuses it.
}

std::optional<ReplicaNotice> ParseNotice(std::string_view payload) {
  if (payload.size() > kMaxNoticePayload) return std::nullopt;
  size_t colon = payload.find(':');
  if (colon == std::string_view::npos) return std::nullopt;
  std::string_view digits = payload.substr(colon + 1);
  if (digits.empty() || digits.size() > 18) return std::nullopt;
  int64_t id = 0;
  for (char c : digits) {
    if (c < '0' || c > '9') return std::nullopt;
    id = id * 10 + (c - '0');
  }
  for (const Word& word : kWords) {
    if (word.text == payload.substr(0, colon)) return ReplicaNotice{word.kind, id};
  }
  return std::nullopt;
}

}  // namespace slipway
