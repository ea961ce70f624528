#include "cli/command_tree.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "cli/completions.h"
#include "cli/man_page.h"

namespace slipway {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::Not;

// A small command line shaped like slipway's.
class CommandTreeTest : public ::testing::Test {
 protected:
  CommandTreeTest() {
    app_.add_flag("--verbose", flag_, "Say more");
    CLI::App* run = app_.add_subcommand("run", "Run it");
    run->add_option("-C,--directory", text_, "Where")->type_name("DIR")->capture_default_str();
    run->add_option("--color", text_, "When to colour")->check(CLI::IsMember({"auto", "never"}));
    run->add_option("job", list_, "Jobs")->type_name("JOB");
    CLI::App* project = app_.add_subcommand("project", ".Leading dot and a back\\slash");
    project->require_subcommand(1);
    project->add_subcommand("add", "Add one")->add_option("name", text_, "Its name")->required();
    app_.add_subcommand("__hidden", "Not shown")->group("");
  }
  CLI::App app_{"slipway: the tool", "slipway"};
  bool flag_ = false;
  std::string text_ = "here";
  std::vector<std::string> list_;
};

TEST_F(CommandTreeTest, DescribesEveryVisibleCommandFromTheDefinitions) {
  std::vector<CommandDoc> docs = DescribeCommands(app_);
  ASSERT_EQ(docs.size(), 4u);
  EXPECT_THAT(docs[0].subcommands, ElementsAre("run", "project"));
  EXPECT_EQ(docs[1].Title(), "slipway run");
  EXPECT_EQ(docs[1].Synopsis(), "slipway run [OPTIONS] [job...]");
  ASSERT_EQ(docs[1].options.size(), 2u);
  EXPECT_THAT(docs[1].options[0].flags, ElementsAre("-C", "--directory"));
  EXPECT_EQ(docs[1].options[0].value, "DIR");
  EXPECT_EQ(docs[1].options[0].default_value, "here");
  EXPECT_THAT(docs[1].options[1].choices, ElementsAre("auto", "never"));
  EXPECT_TRUE(docs[1].positionals[0].repeatable);
  EXPECT_EQ(docs[2].Synopsis(), "slipway project COMMAND");
  EXPECT_EQ(docs[3].Synopsis(), "slipway project add name");
  EXPECT_TRUE(docs[3].positionals[0].required);
  EXPECT_TRUE(docs[0].options[0].value.empty());  // --verbose is a flag.
}

TEST_F(CommandTreeTest, ManPageEscapesRoff) {
  std::string page = ManPage(DescribeCommands(app_), "1.2");
  EXPECT_THAT(page, HasSubstr(".TH SLIPWAY 1 \"\" \"slipway 1.2\" \"User Commands\"\n"));
  EXPECT_THAT(page, HasSubstr("slipway \\- the tool\n"));
  EXPECT_THAT(page, HasSubstr("\n\\&.Leading dot and a back\\eslash.\n"));
  EXPECT_THAT(page, HasSubstr("\\fB\\-C\\fR, \\fB\\-\\-directory\\fR \\fIDIR\\fR\nWhere. "
                              "Default: \\fIhere\\fR\n"));
  EXPECT_THAT(page, HasSubstr("When to colour. One of: auto, never.\n"));
  EXPECT_THAT(page, Not(HasSubstr("__hidden")));
}

TEST_F(CommandTreeTest, CompletionsForThreeShellsOnly) {
  std::vector<CommandDoc> docs = DescribeCommands(app_);
  for (const char* shell : {"bash", "zsh", "fish"}) {
    StatusOr<std::string> script = CompletionScript(shell, docs);
    ASSERT_TRUE(script.ok()) << shell;
    EXPECT_THAT(*script, HasSubstr("directory")) << shell;
    EXPECT_THAT(*script, Not(HasSubstr("__hidden"))) << shell;
  }
  EXPECT_EQ(CompletionScript("tcsh", docs).status().message(),
            "no completions for shell 'tcsh': bash, zsh or fish");
}

}  // namespace
}  // namespace slipway
