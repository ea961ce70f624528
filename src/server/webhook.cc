#include "server/webhook.h"

#include <openssl/evp.h>
#include <openssl/hmac.h>

#include <nlohmann/json.hpp>

#include "server/merge_request_hook.h"
#include "util/bounded_json.h"
#include "util/ref_name.h"
#include "util/same_bytes.h"

namespace slipway {
namespace {

constexpr std::string_view kZeroSha = "0000000000000000000000000000000000000000";

WebhookResult Fail(WebhookError error, std::string message) {
  WebhookResult r;
  r.error = error;
  r.message = std::move(message);
  return r;
}

const std::string* Header(const std::map<std::string, std::string>& headers,
                          std::string_view name) {
  auto it = headers.find(std::string(name));
  return it == headers.end() ? nullptr : &it->second;
}

std::string Lower(std::string s) {
  for (char& c : s) {
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  }
  return s;
}

// Verifies the request the forge's way; an empty secret accepts anything.
// *signature is set to the verified HMAC of a GitHub or Gitea body.
std::optional<WebhookResult> Verify(Forge forge, const std::map<std::string, std::string>& headers,
                                    std::string_view body, std::string_view secret,
                                    std::string* signature) {
  if (secret.empty()) return std::nullopt;
  switch (forge) {
    case Forge::kGitLab: {
      const std::string* token = Header(headers, "x-gitlab-token");
      if (token == nullptr) return Fail(WebhookError::kUnauthorized, "missing X-Gitlab-Token");
      if (!SameBytes(*token, secret)) {
        return Fail(WebhookError::kUnauthorized, "X-Gitlab-Token does not match");
      }
      return std::nullopt;
    }
    case Forge::kGitHub:
    case Forge::kGitea: {
      bool github = forge == Forge::kGitHub;
      const char* name = github ? "x-hub-signature-256" : "x-gitea-signature";
      const char* shown = github ? "X-Hub-Signature-256" : "X-Gitea-Signature";
      const std::string* sent = Header(headers, name);
      if (sent == nullptr) {
        return Fail(WebhookError::kUnauthorized, std::string("missing ") + shown);
      }
      std::string hmac = HmacSha256Hex(secret, body);
      if (!SameBytes(Lower(*sent), (github ? "sha256=" : "") + hmac)) {
        return Fail(WebhookError::kUnauthorized, std::string(shown) + " does not match");
      }
      *signature = std::move(hmac);
      return std::nullopt;
    }
  }
  return Fail(WebhookError::kUnauthorized, "unknown forge");
}

// The forge's id of this delivery ("" if it sent none), or an error for one
// that is not an id.
std::optional<WebhookResult> DeliveryId(Forge forge,
                                        const std::map<std::string, std::string>& headers,
                                        std::string* id) {
  static constexpr std::pair<Forge, const char*> kHeaders[] = {
      {Forge::kGitHub, "X-GitHub-Delivery"},
      {Forge::kGitea, "X-Gitea-Delivery"},
      {Forge::kGitLab, "Idempotency-Key"},
      {Forge::kGitLab, "X-Gitlab-Event-UUID"},
  };
  for (const auto& [header_forge, shown] : kHeaders) {
    if (header_forge != forge) continue;
    const std::string* value = Header(headers, Lower(shown));
    if (value == nullptr || value->empty()) continue;
    bool printable = value->size() <= kMaxDeliveryIdBytes;
    for (char c : *value) printable = printable && c > 0x20 && c < 0x7f;
    if (!printable) {
      return Fail(WebhookError::kBadRequest, std::string(shown) + " is not a delivery id (1 to " +
                                                 std::to_string(kMaxDeliveryIdBytes) +
                                                 " printable ASCII characters)");
    }
    *id = *value;
    return std::nullopt;
  }
  id->clear();
  return std::nullopt;
}

std::string StringField(const nlohmann::json& body, const char* key) {
  auto it = body.find(key);
  return it != body.end() && it->is_string() ? it->get<std::string>() : std::string();
}

void AddReplayKeys(const std::string& delivery_id, const std::string& signature,
                   WebhookResult* result) {
  if (!delivery_id.empty()) result->replay_keys.push_back("delivery:" + delivery_id);
  if (!signature.empty()) result->replay_keys.push_back("signed-body:" + signature);
}

}  // namespace

std::string HmacSha256Hex(std::string_view secret, std::string_view body) {
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int length = 0;
  HMAC(EVP_sha256(), secret.data(), static_cast<int>(secret.size()),
       reinterpret_cast<const unsigned char*>(body.data()), body.size(), digest, &length);
  static constexpr char kHex[] = "0123456789abcdef";
  std::string hex;
  hex.reserve(length * 2);
  for (unsigned int i = 0; i < length; ++i) {
    hex += kHex[digest[i] >> 4];
    hex += kHex[digest[i] & 0xf];
  }
  return hex;
}

std::optional<Forge> ParseForge(std::string_view name) {
  if (name == "gitlab") return Forge::kGitLab;
  if (name == "github") return Forge::kGitHub;
  if (name == "gitea") return Forge::kGitea;
  return std::nullopt;
}

WebhookResult ParseWebhook(Forge forge, const std::map<std::string, std::string>& headers,
                           std::string_view body, std::string_view secret) {
  std::string signature;
  if (std::optional<WebhookResult> denied = Verify(forge, headers, body, secret, &signature)) {
    return *denied;
  }
  std::string delivery_id;
  if (std::optional<WebhookResult> bad = DeliveryId(forge, headers, &delivery_id)) return *bad;

  const char* event_header = forge == Forge::kGitLab   ? "x-gitlab-event"
                             : forge == Forge::kGitHub ? "x-github-event"
                                                       : "x-gitea-event";
  // Without the header (a hand-made request), the body says which it is.
  std::optional<bool> merge_request;
  if (const std::string* event = Header(headers, event_header)) {
    bool push = forge == Forge::kGitLab ? (*event == "Push Hook" || *event == "Tag Push Hook")
                                        : *event == "push";
    merge_request = IsMergeRequestEventName(forge, *event);
    if (!push && !*merge_request) {
      return Fail(WebhookError::kIgnored,
                  "event '" + *event + "' is neither a push nor a merge request");
    }
  }

  BoundedJson parsed = ParseBoundedJson(body);
  if (parsed.error == JsonParseError::kTooDeep) {
    return Fail(WebhookError::kBadRequest, "Parameters nested too deeply");
  }
  if (parsed.error != JsonParseError::kNone) {
    return Fail(WebhookError::kBadRequest, "body is not valid JSON");
  }
  const nlohmann::json& json = parsed.value;
  if (!json.is_object()) return Fail(WebhookError::kBadRequest, "body is not a JSON object");
  if (!merge_request) merge_request = LooksLikeMergeRequestEvent(forge, json);
  if (*merge_request) {
    WebhookResult result;
    result.merge_request = ReadMergeRequestEvent(forge, json, &result.error, &result.message);
    if (result.merge_request) AddReplayKeys(delivery_id, signature, &result);
    return result;
  }
  if (forge == Forge::kGitLab) {
    std::string kind = StringField(json, "object_kind");
    if (!kind.empty() && kind != "push" && kind != "tag_push") {
      return Fail(WebhookError::kIgnored, "event '" + kind + "' is not a push");
    }
  }

  PushEvent event;
  std::string ref = StringField(json, "ref");
  event.after = StringField(json, "after");
  event.before = StringField(json, "before");
  if (ref.empty()) return Fail(WebhookError::kBadRequest, "push event without 'ref'");
  if (!IsFullCommitId(event.after)) {
    return Fail(WebhookError::kBadRequest, "push event without a 40-hex 'after' commit");
  }
  if (event.before.empty()) event.before = std::string(kZeroSha);
  if (!IsFullCommitId(event.before)) {
    return Fail(WebhookError::kBadRequest, "push event 'before' is not a 40-hex commit");
  }
  constexpr std::string_view kHeads = "refs/heads/";
  constexpr std::string_view kTags = "refs/tags/";
  if (ref.starts_with(kHeads)) {
    event.ref = ref.substr(kHeads.size());
  } else if (ref.starts_with(kTags)) {
    event.ref = ref.substr(kTags.size());
    event.tag = true;
  } else {
    return Fail(WebhookError::kIgnored, "ref '" + ref + "' is neither a branch nor a tag");
  }
  // The ref reaches git and the jobs' variables: it must be a name git
  // would create, never one it could read as an option.
  if (Status valid = CheckBranchOrTagName(event.ref, event.tag); !valid.ok()) {
    return Fail(WebhookError::kBadRequest, "push event ref '" + ref + "': " + valid.message());
  }
  auto deleted = json.find("deleted");
  event.deleted = event.after == kZeroSha ||
                  (deleted != json.end() && deleted->is_boolean() && deleted->get<bool>());
  WebhookResult result;
  result.event = std::move(event);
  AddReplayKeys(delivery_id, signature, &result);
  return result;
}

}  // namespace slipway
