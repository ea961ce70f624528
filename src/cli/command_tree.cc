#include "cli/command_tree.h"

namespace slipway {
namespace {

OptionDoc DescribeOption(const CLI::Option& opt) {
  OptionDoc doc;
  for (const std::string& s : opt.get_snames()) doc.flags.push_back("-" + s);
  for (const std::string& l : opt.get_lnames()) doc.flags.push_back("--" + l);
  if (doc.flags.empty()) doc.name = opt.get_name(true);
  doc.description = opt.get_description();
  doc.default_value = opt.get_default_str();
  doc.required = opt.get_required();
  doc.repeatable = opt.get_expected_max() > 1 || opt.get_items_expected_max() > 1;
  if (opt.get_items_expected_max() == 0) return doc;  // A flag.
  // "TEXT:{auto,always,never}": the type, then what a validator says.
  std::string type = opt.get_type_name();
  size_t colon = type.find(':');
  doc.value = type.substr(0, colon);
  if (colon != std::string::npos && type.size() > colon + 2 && type[colon + 1] == '{' &&
      type.back() == '}') {
    std::string list = type.substr(colon + 2, type.size() - colon - 3);
    for (size_t start = 0; start <= list.size();) {
      size_t comma = list.find(',', start);
      doc.choices.push_back(list.substr(start, comma - start));
      if (comma == std::string::npos) break;
      start = comma + 1;
    }
  }
  return doc;
}

void Describe(const CLI::App& command, std::vector<std::string> path,
              std::vector<CommandDoc>* out) {
  CommandDoc doc;
  doc.path = path;
  doc.description = command.get_description();
  doc.needs_subcommand = command.get_require_subcommand_min() > 0;
  for (const CLI::Option* opt : command.get_options()) {
    if (opt == command.get_help_ptr() || opt->get_group().empty()) continue;
    (opt->get_positional() ? doc.positionals : doc.options).push_back(DescribeOption(*opt));
  }
  std::vector<const CLI::App*> subs =
      command.get_subcommands([](const CLI::App* sub) { return !sub->get_group().empty(); });
  for (const CLI::App* sub : subs) doc.subcommands.push_back(sub->get_name());
  out->push_back(std::move(doc));
  for (const CLI::App* sub : subs) {
    std::vector<std::string> sub_path = path;
    sub_path.push_back(sub->get_name());
    Describe(*sub, sub_path, out);
  }
}

}  // namespace

std::string CommandDoc::Title() const {
  std::string title = "slipway";
  for (const std::string& p : path) title += " " + p;
  return title;
}

std::string CommandDoc::Synopsis() const {
  std::string text = Title();
  if (!options.empty()) text += " [OPTIONS]";
  for (const OptionDoc& p : positionals) {
    std::string name = p.name + (p.repeatable ? "..." : "");
    text += " " + (p.required ? name : "[" + name + "]");
  }
  if (!subcommands.empty()) text += needs_subcommand ? " COMMAND" : " [COMMAND]";
  return text;
}

std::vector<CommandDoc> DescribeCommands(const CLI::App& root) {
  std::vector<CommandDoc> out;
  Describe(root, {}, &out);
  return out;
}

}  // namespace slipway
