#include "util/secret_mask.h"

#include <algorithm>
#include <set>

#include "util/base64.h"

namespace slipway {
namespace {

constexpr char kHexLower[] = "0123456789abcdef";
constexpr char kHexUpper[] = "0123456789ABCDEF";

std::string Hex(std::string_view bytes, const char* digits) {
  std::string out;
  out.reserve(bytes.size() * 2);
  for (unsigned char c : bytes) {
    out += digits[c >> 4];
    out += digits[c & 0xf];
  }
  return out;
}

bool Unreserved(unsigned char c) {  // RFC 3986 section 2.3.
  return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' ||
         c == '.' || c == '_' || c == '~';
}

// Percent-encoding of every byte outside the unreserved set; with
// plus_for_space, a space is '+' (HTML forms, Python's quote_plus).
std::string PercentEncode(std::string_view bytes, const char* digits, bool plus_for_space) {
  std::string out;
  for (unsigned char c : bytes) {
    if (Unreserved(c)) {
      out += static_cast<char>(c);
    } else if (c == ' ' && plus_for_space) {
      out += '+';
    } else {
      out += '%';
      out += digits[c >> 4];
      out += digits[c & 0xf];
    }
  }
  return out;
}

// The base64 characters that depend on secret's bytes alone when the secret
// starts `align` bytes after a 3-byte boundary of the encoded data: the
// characters around it also carry bits of the bytes before and after it.
std::string StableBase64(std::string_view secret, size_t align, bool url_safe) {
  std::string data(align, '\0');
  data.append(secret);
  std::string encoded = Base64Encode(data);
  size_t first = (8 * align + 5) / 6;            // ceil(8a / 6)
  size_t end = 8 * (align + secret.size()) / 6;  // floor(8(a + n) / 6)
  if (end <= first || end > encoded.size()) return "";
  std::string out = encoded.substr(first, end - first);
  if (url_safe) {
    std::replace(out.begin(), out.end(), '+', '-');
    std::replace(out.begin(), out.end(), '/', '_');
  }
  return out;
}

std::string_view TrimTrailingNewlines(std::string_view s) {
  while (!s.empty() && (s.back() == '\n' || s.back() == '\r')) s.remove_suffix(1);
  return s;
}

}  // namespace

std::string ValidateMaskedValue(std::string_view value) {
  if (value.size() < kMinMaskedLength) {
    return "a masked value must be at least " + std::to_string(kMinMaskedLength) +
           " characters long";
  }
  return "";
}

MaskPatterns::MaskPatterns(const std::vector<std::string>& secrets) {
  std::set<std::string> unique;
  auto add = [&unique](std::string_view p) {
    if (p.size() >= kMinMaskedLength) unique.emplace(p);
  };
  for (const std::string& secret : secrets) {
    if (secret.size() < kMinMaskedLength) continue;
    add(secret);
    add(TrimTrailingNewlines(secret));
    // A multi-line value (a key, a certificate) printed line by line, with
    // other text (a timestamp, a prefix) between its lines.
    std::string_view rest = secret;
    while (!rest.empty()) {
      size_t nl = rest.find('\n');
      std::string_view line = rest.substr(0, nl);
      if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
      add(line);
      if (nl == std::string_view::npos) break;
      rest.remove_prefix(nl + 1);
    }
    for (size_t align = 0; align < 3; ++align) {
      add(StableBase64(secret, align, false));
      add(StableBase64(secret, align, true));
    }
    add(Hex(secret, kHexLower));
    add(Hex(secret, kHexUpper));
    for (bool plus : {false, true}) {
      add(PercentEncode(secret, kHexUpper, plus));
      add(PercentEncode(secret, kHexLower, plus));
    }
  }
  patterns_.assign(unique.begin(), unique.end());
  std::stable_sort(patterns_.begin(), patterns_.end(),
                   [](const std::string& a, const std::string& b) { return a.size() > b.size(); });
}

std::string MaskPatterns::Mask(std::string_view text) const {
  std::string out;
  StreamMasker masker(this);
  masker.Write(text, &out);
  masker.Flush(&out);
  return out;
}

namespace {

// Where the longest tail of buffer[from..] that is a proper prefix of some
// pattern starts: what more bytes may still turn into a secret. buffer.size()
// when there is none.
size_t HoldStart(std::string_view buffer, size_t from, const std::vector<std::string>& patterns) {
  size_t hold = buffer.size();
  for (const std::string& p : patterns) {
    size_t first = std::max(from, buffer.size() >= p.size() ? buffer.size() - p.size() + 1 : 0);
    for (size_t i = first; i < hold; ++i) {
      if (buffer[i] != p[0]) continue;
      std::string_view tail = buffer.substr(i);
      if (p.compare(0, tail.size(), tail) == 0) {
        hold = i;
        break;
      }
    }
  }
  return hold;
}

// Appends buffer[from..end) to *out with every pattern that starts before
// end masked (a match may run past end). Returns where the output stopped:
// end, or the end of a match that ran past it.
size_t MaskRange(std::string_view buffer, size_t from, size_t end,
                 const std::vector<std::string>& patterns, std::string* out) {
  // The next occurrence of each pattern at or after `from`, found lazily.
  std::vector<size_t> next(patterns.size(), 0);
  std::vector<bool> known(patterns.size(), false);
  size_t pos = from;
  while (pos < end) {
    size_t best = std::string_view::npos;
    size_t best_len = 0;
    for (size_t j = 0; j < patterns.size(); ++j) {
      if (!known[j] || (next[j] != std::string_view::npos && next[j] < pos)) {
        next[j] = buffer.find(patterns[j], pos);
        known[j] = true;
      }
      // Longest first, so an equal start keeps the longer pattern.
      if (next[j] < best) {
        best = next[j];
        best_len = patterns[j].size();
      }
    }
    if (best >= end) break;
    out->append(buffer.substr(pos, best - pos));
    out->append(kMaskedText);
    pos = best + best_len;
  }
  if (pos < end) {
    out->append(buffer.substr(pos, end - pos));
    pos = end;
  }
  return pos;
}

}  // namespace

void StreamMasker::Write(std::string_view bytes, std::string* out) {
  if (patterns_->empty()) {
    out->append(bytes);
    return;
  }
  pending_.append(bytes);
  const std::vector<std::string>& patterns = patterns_->patterns();
  // A match that starts before the held tail is complete: a longer pattern
  // starting at the same place would make that place part of the tail. A
  // match may run into the tail; what follows it may again begin a secret.
  size_t done = 0;
  while (true) {
    size_t hold = HoldStart(pending_, done, patterns);
    size_t stop = MaskRange(pending_, done, hold, patterns, out);
    done = stop;
    if (stop <= hold) break;
  }
  pending_.erase(0, done);
}

void StreamMasker::Flush(std::string* out) {
  MaskRange(pending_, 0, pending_.size(), patterns_->patterns(), out);
  pending_.clear();
}

}  // namespace slipway
