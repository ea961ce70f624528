#include "config/block_scalar_rewrite.h"

#include <cstdio>
#include <vector>

namespace slipway {
namespace {

enum class Chomp { kClip, kStrip, kKeep };

// The parts of a `- &anchor |` line that the rewrite needs.
struct Header {
  size_t dash_column = 0;
  size_t indicator_column = 0;
  Chomp chomp = Chomp::kClip;
};

bool IsBlank(std::string_view line) {
  return line.find_first_not_of(' ') == std::string_view::npos;
}

size_t Indent(std::string_view line) {
  size_t n = line.find_first_not_of(' ');
  return n == std::string_view::npos ? line.size() : n;
}

std::optional<Header> ParseHeader(std::string_view line) {
  Header header;
  size_t i = Indent(line);
  bool saw_dash = false;
  while (i < line.size() && line[i] == '-' && (i + 1 == line.size() || line[i + 1] == ' ')) {
    saw_dash = true;
    header.dash_column = i;
    ++i;
    while (i < line.size() && line[i] == ' ') ++i;
  }
  if (!saw_dash) return std::nullopt;
  bool saw_property = false;
  while (i < line.size() && (line[i] == '&' || line[i] == '!')) {
    saw_property = true;
    while (i < line.size() && line[i] != ' ') ++i;
    while (i < line.size() && line[i] == ' ') ++i;
  }
  if (!saw_property || i >= line.size() || line[i] != '|') return std::nullopt;
  header.indicator_column = i++;
  if (i < line.size() && (line[i] == '-' || line[i] == '+')) {
    header.chomp = line[i] == '-' ? Chomp::kStrip : Chomp::kKeep;
    ++i;
  }
  while (i < line.size() && line[i] == ' ') ++i;
  if (i < line.size() && line[i] != '#') return std::nullopt;  // Indentation digit or junk.
  return header;
}

// Escapes content for a double-quoted scalar. A leading blank is escaped too,
// because YAML strips the leading blanks of a continuation line.
std::string Escape(std::string_view content) {
  std::string out;
  for (size_t i = 0; i < content.size(); ++i) {
    unsigned char c = static_cast<unsigned char>(content[i]);
    if (c == '\\' || c == '"') {
      out += '\\';
      out += static_cast<char>(c);
    } else if (c == '\t') {
      out += "\\t";
    } else if (i == 0 && c == ' ') {
      out += "\\ ";
    } else if (c < 0x20 || c == 0x7f) {
      char buf[8];
      std::snprintf(buf, sizeof(buf), "\\x%02x", c);
      out += buf;
    } else {
      out += static_cast<char>(c);
    }
  }
  return out;
}

std::vector<std::string_view> SplitLines(std::string_view text) {
  std::vector<std::string_view> lines;
  size_t start = 0;
  while (start <= text.size()) {
    size_t end = text.find('\n', start);
    if (end == std::string_view::npos) {
      lines.push_back(text.substr(start));
      break;
    }
    lines.push_back(text.substr(start, end - start));
    start = end + 1;
  }
  return lines;
}

std::string_view StripCr(std::string_view line) {
  if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
  return line;
}

}  // namespace

std::optional<std::string> RewriteBlockScalarsAfterProperties(std::string_view text) {
  std::vector<std::string_view> lines = SplitLines(text);
  std::vector<std::string> out(lines.begin(), lines.end());
  bool changed = false;
  for (size_t h = 0; h < lines.size(); ++h) {
    std::optional<Header> header = ParseHeader(StripCr(lines[h]));
    if (!header) continue;
    size_t first = h + 1;
    while (first < lines.size() && IsBlank(StripCr(lines[first]))) ++first;
    if (first >= lines.size()) continue;
    size_t indent = Indent(StripCr(lines[first]));
    if (indent <= header->dash_column) continue;  // An empty scalar: nothing to fix.
    size_t last = first;  // The last non-blank content line.
    size_t end = first + 1;
    for (; end < lines.size(); ++end) {
      std::string_view line = StripCr(lines[end]);
      if (IsBlank(line)) continue;
      if (Indent(line) < indent) break;
      last = end;
    }
    size_t trailing_blank_lines = 0;
    for (size_t i = last + 1; i < end; ++i) ++trailing_blank_lines;

    out[h] = std::string(lines[h].substr(0, header->indicator_column)) + "\"\\";
    for (size_t i = h + 1; i <= last; ++i) {
      std::string_view line = StripCr(lines[i]);
      std::string_view content = line.size() > indent ? line.substr(indent) : std::string_view();
      std::string rewritten = std::string(indent, ' ') + Escape(content);
      if (i < last) {
        rewritten += "\\n\\";
      } else {
        if (header->chomp != Chomp::kStrip) rewritten += "\\n";
        if (header->chomp == Chomp::kKeep) {
          for (size_t k = 0; k < trailing_blank_lines; ++k) rewritten += "\\n";
        }
        rewritten += '"';
      }
      out[i] = std::move(rewritten);
    }
    changed = true;
    h = last;
  }
  if (!changed) return std::nullopt;
  std::string joined;
  for (size_t i = 0; i < out.size(); ++i) {
    if (i) joined += '\n';
    joined += out[i];
  }
  return joined;
}

}  // namespace slipway
