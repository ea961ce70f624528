// DELETE /api/v4/projects/:id over a real service: what the project runs
// is canceled and its processes are gone, then its records and files (run
// directories, mirror, builds) go; other projects keep theirs.
#include <gtest/gtest.h>
#include <signal.h>

#include "exec/file_tree.h"
#include "server/service_api_test_util.h"

namespace slipway {
namespace {

class ApiProjectDeleteTest : public ServiceApiTest {
 protected:
  // The job records its shell's pid, then, when $HANG is set, waits until
  // it is killed.
  std::string CiYaml() override {
    return "job:\n"
           "  script:\n"
           "    - echo $$ > \"$PIDS/$CI_PIPELINE_ID\"\n"
           "    - if [ -n \"$HANG\" ]; then while true; do sleep 1; done; fi\n"
           "  artifacts:\n"
           "    paths: [a.txt]\n"
           "  before_script: [echo a > a.txt]\n";
  }
};

TEST_F(ApiProjectDeleteTest, CancelsWhatRunsThenRemovesRecordsAndFiles) {
  std::string pids = work_dir_ + "/pids";
  std::filesystem::create_directories(pids);
  CreatePipelineRequest request;
  request.project_id = arts_;
  request.variables = {{"PIDS", pids}};
  auto done = service_->CreatePipeline(request);
  ASSERT_TRUE(done.ok()) << done.status().message();
  ASSERT_TRUE(WaitFor([&] { return !IsActive((*store_->GetPipeline(done->id))->status); }));
  request.variables.push_back({"HANG", "1"});
  auto hanging = service_->CreatePipeline(request);
  ASSERT_TRUE(hanging.ok()) << hanging.status().message();
  std::string pid_file = pids + "/" + std::to_string(hanging->id);
  ASSERT_TRUE(WaitFor([&] { return std::filesystem::exists(pid_file); }));
  std::string data = data_dir_;
  ASSERT_TRUE(std::filesystem::exists(data + "/runs/" + std::to_string(done->id)));
  ASSERT_TRUE(std::filesystem::exists(data + "/repos/" + std::to_string(arts_) + ".git"));

  EXPECT_EQ(Call("DELETE", Project(), run_).status, 403);
  HttpResponse deleted = Call("DELETE", Project(), admin_);
  ASSERT_EQ(deleted.status, 202) << deleted.body;
  EXPECT_EQ(deleted.body, R"({"message":"202 Accepted"})");

  // The hanging job's shell is gone (killed, not left running).
  StatusOr<std::string> pid = ReadFile(pid_file);
  ASSERT_TRUE(pid.ok());
  EXPECT_TRUE(WaitFor([&] { return kill(std::stoi(*pid), 0) != 0; }));
  EXPECT_FALSE(store_->GetProject(arts_)->has_value());
  EXPECT_FALSE(store_->GetPipeline(done->id)->has_value());
  EXPECT_FALSE(store_->GetPipeline(hanging->id)->has_value());
  EXPECT_FALSE(std::filesystem::exists(data + "/runs/" + std::to_string(done->id)));
  EXPECT_FALSE(std::filesystem::exists(data + "/runs/" + std::to_string(hanging->id)));
  EXPECT_FALSE(std::filesystem::exists(data + "/repos/" + std::to_string(arts_) + ".git"));
  EXPECT_FALSE(std::filesystem::exists(data + "-builds/" + std::to_string(arts_)));
  EXPECT_EQ(Call("GET", Project(), admin_).status, 404);
  EXPECT_EQ(Call("DELETE", Project(), admin_).status, 404);
  // The other project is untouched.
  EXPECT_EQ(Call("GET", "/api/v4/projects/" + std::to_string(project_id_), admin_).status, 200);
}

}  // namespace
}  // namespace slipway
