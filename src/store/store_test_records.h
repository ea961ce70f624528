// Test helper (header-only, tests only): projects, environments and
// deployments made directly in a store, a failed step failing the test.
#ifndef SLIPWAY_STORE_STORE_TEST_RECORDS_H_
#define SLIPWAY_STORE_STORE_TEST_RECORDS_H_

#include <gtest/gtest.h>

#include <string>

#include "store/store.h"

namespace slipway {

inline int64_t AddTestProject(Store* store, const std::string& path) {
  ProjectRecord p;
  p.name = path;
  p.path_with_namespace = path;
  auto created = store->CreateProject(p);
  EXPECT_TRUE(created.ok()) << created.status().message();
  return created.ok() ? created->id : 0;
}

inline int64_t AddTestEnvironment(Store* store, int64_t project, const std::string& name,
                                  const std::string& tier) {
  EnvironmentRecord e;
  e.project_id = project;
  e.name = name;
  e.tier = tier;
  auto saved = store->SaveEnvironment(e);
  EXPECT_TRUE(saved.ok()) << saved.status().message();
  return saved.ok() ? saved->id : 0;
}

// A deployment of sha to environment, started (running) and then moved to
// status (finished now, by the store's clock, if status is final).
inline DeploymentRecord AddTestDeployment(Store* store, int64_t project, int64_t environment,
                                          const std::string& sha, const std::string& status) {
  DeploymentRecord d;
  d.project_id = project;
  d.environment_id = environment;
  d.ref = "main";
  d.sha = sha;
  d.status = "running";
  auto created = store->CreateDeployment(d);
  EXPECT_TRUE(created.ok()) << created.status().message();
  if (!created.ok()) return d;
  if (status == "running") return *created;
  auto moved = store->SetDeploymentStatus(created->id, status);
  EXPECT_TRUE(moved.ok()) << moved.status().message();
  return moved.ok() ? *moved : *created;
}

}  // namespace slipway

#endif  // SLIPWAY_STORE_STORE_TEST_RECORDS_H_
