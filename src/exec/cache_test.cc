#include "exec/cache.h"

#include <gtest/gtest.h>

#include <atomic>
#include <thread>

#include "exec/file_tree.h"
#include "util/test_dir.h"

namespace slipway {
namespace {

class CacheTest : public ::testing::Test {
 protected:
  std::string Key(const Cache& cache, size_t index = 0) {
    StatusOr<std::vector<TreeEntry>> entries = ListTree(tmp_.Sub("src"));
    EXPECT_TRUE(entries.ok());
    return CacheKey(cache, index, vars_, tmp_.Sub("src"), *entries);
  }

  TempDir tmp_;
  VariableList vars_;
};

TEST_F(CacheTest, StringKeysExpandVariables) {
  ASSERT_EQ(Sh(tmp_.path(), "mkdir src"), 0);
  vars_.Set("CI_COMMIT_REF_SLUG", "main");
  Cache cache;
  EXPECT_EQ(Key(cache), "default");
  cache.key = "deps-$CI_COMMIT_REF_SLUG";
  EXPECT_EQ(Key(cache), "deps-main");
  cache.key = "$UNSET";
  EXPECT_EQ(Key(cache), "default");
}

TEST_F(CacheTest, FilesKeyIsGitLabsDigestOfBlobIds) {
  ASSERT_EQ(Sh(tmp_.path(),
               "mkdir -p src/sub && printf 'hello\\n' > src/a.lock && "
               "touch src/sub/empty.lock"),
            0);
  Cache cache;
  cache.key_files = {"a.lock"};
  // sha1("ce0136...") where ce0136... is git's blob id of "hello\n".
  EXPECT_EQ(Key(cache), "0-126780f1d4ae55fc826963e2e5d7ba7916e8903f");
  EXPECT_EQ(Key(cache, 2), "2-126780f1d4ae55fc826963e2e5d7ba7916e8903f");
  cache.key_prefix = "$PFX";
  vars_.Set("PFX", "rspec");
  EXPECT_EQ(Key(cache), "rspec-126780f1d4ae55fc826963e2e5d7ba7916e8903f");
  // Sorted blob ids joined with '-'; globs allowed; missing files ignored.
  cache.key_files = {"**/*.lock", "missing.txt"};
  EXPECT_EQ(Key(cache), "rspec-b7a9a04358a713b450e89c06fede85439b207aef");
  cache.key_files = {"missing.txt"};
  EXPECT_EQ(Key(cache), "rspec-default");
}

TEST_F(CacheTest, RestoreKeysIncludeFallbacks) {
  Cache cache;
  cache.fallback_keys = {"fb-$CI_DEFAULT_BRANCH", "second"};
  vars_.Set("CI_DEFAULT_BRANCH", "main");
  vars_.Set("CACHE_FALLBACK_KEY", "global");
  std::vector<std::string> keys = RestoreKeys(cache, "k", vars_);
  EXPECT_EQ(keys, (std::vector<std::string>{"k", "fb-main", "second", "global"}));
}

TEST_F(CacheTest, EncodedKeysStayInsideTheRoot) {
  EXPECT_EQ(CacheStore::EncodeKey("feature/x y"), "feature%2Fx%20y");
  EXPECT_EQ(CacheStore::EncodeKey(".."), "%2E%2E");
  EXPECT_EQ(CacheStore::EncodeKey("v1.2-a_b"), "v1.2-a_b");
}

TEST_F(CacheTest, SaveThenRestoreFirstExistingKey) {
  ASSERT_EQ(Sh(tmp_.path(), "mkdir -p ws/vendor && echo dep > ws/vendor/d && echo x > ws/other"),
            0);
  CacheStore store(tmp_.Sub("cache"));
  StatusOr<std::vector<TreeEntry>> entries = ListTree(tmp_.Sub("ws"));
  ASSERT_TRUE(entries.ok());
  std::vector<TreeEntry> vendor;
  for (const TreeEntry& e : *entries) {
    if (e.path.starts_with("vendor")) vendor.push_back(e);
  }
  ASSERT_EQ(vendor.size(), 2u);
  ASSERT_TRUE(store.Save("feature/x", tmp_.Sub("ws"), vendor).ok());

  StatusOr<std::string> miss = store.Restore({"nope"}, tmp_.Sub("next"));
  ASSERT_TRUE(miss.ok());
  EXPECT_EQ(*miss, "");
  StatusOr<std::string> hit = store.Restore({"nope", "feature/x"}, tmp_.Sub("next"));
  ASSERT_TRUE(hit.ok());
  EXPECT_EQ(*hit, "feature/x");
  EXPECT_EQ(Slurp(tmp_.Sub("next/vendor/d")), "dep\n");
  EXPECT_FALSE(PathExists(tmp_.Sub("next/other")));
  EXPECT_TRUE(IsDirectory(tmp_.Sub("cache/feature%2Fx")));

  // Replacing it leaves one version behind, not two.
  ASSERT_TRUE(store.Save("feature/x", tmp_.Sub("ws"), {}).ok());
  StatusOr<std::vector<std::string>> versions = ListNames(tmp_.Sub("cache/.v"));
  ASSERT_TRUE(versions.ok());
  EXPECT_EQ(versions->size(), 1u);
  ASSERT_TRUE(store.Restore({"feature/x"}, tmp_.Sub("empty")).ok());
  StatusOr<std::vector<std::string>> restored = ListNames(tmp_.Sub("empty"));
  ASSERT_TRUE(restored.ok());
  EXPECT_TRUE(restored->empty());
}

// Two caches restored into one workspace, the first holding `d -> /victim`
// and the second `d/pwned.txt`: the second replaces the link by a real
// directory and never writes through it.
TEST_F(CacheTest, ALinkFromOneCacheIsNotFollowedByTheNextCachesFiles) {
  ASSERT_EQ(Sh(tmp_.path(), R"(
    mkdir victim one two
    ln -s "$PWD/victim" one/d
    mkdir two/d && echo pwned > two/d/pwned.txt
  )"),
            0);
  CacheStore store(tmp_.Sub("cache"));
  for (const char* key : {"one", "two"}) {
    StatusOr<std::vector<TreeEntry>> entries = ListTree(tmp_.Sub(key));
    ASSERT_TRUE(entries.ok());
    ASSERT_TRUE(store.Save(key, tmp_.Sub(key), *entries).ok());
  }
  std::string ws = tmp_.Sub("ws");
  ASSERT_TRUE(store.Restore({"one"}, ws).ok());
  StatusOr<std::string> second = store.Restore({"two"}, ws);
  ASSERT_TRUE(second.ok()) << second.status().message();
  EXPECT_EQ(*second, "two");
  StatusOr<std::vector<std::string>> victim = ListNames(tmp_.Sub("victim"));
  ASSERT_TRUE(victim.ok());
  EXPECT_TRUE(victim->empty());
  EXPECT_FALSE(PathExists(tmp_.Sub("victim/pwned.txt")));
  EXPECT_EQ(Slurp(ws + "/d/pwned.txt"), "pwned\n");

  // Saving from a workspace that is a link (to the server's data, say)
  // saves nothing from where it points.
  ASSERT_EQ(Sh(tmp_.path(), "echo secret > victim/db && ln -s victim swapped"), 0);
  EXPECT_FALSE(store.Save("three", tmp_.Sub("swapped"), {{"db", EntryType::kFile}}).ok());
  EXPECT_EQ(*store.Restore({"three"}, tmp_.Sub("ws3")), "");
}

// Writers replace a cache while readers restore it: every restore must see
// one complete version, never a mix or a part.
TEST_F(CacheTest, ConcurrentSavesAndRestoresSeeWholeVersions) {
  constexpr int kFiles = 20;
  CacheStore store(tmp_.Sub("cache"));
  auto make_version = [&](int v) {
    std::string dir = tmp_.Sub("v" + std::to_string(v));
    std::vector<TreeEntry> entries;
    EXPECT_TRUE(MakeDirs(dir).ok());
    for (int f = 0; f < kFiles; ++f) {
      std::string name = "f" + std::to_string(f);
      EXPECT_TRUE(WriteFile(dir + "/" + name, std::to_string(v)).ok());
      entries.push_back({name, EntryType::kFile});
    }
    return std::make_pair(dir, entries);
  };
  auto v1 = make_version(1);
  auto v2 = make_version(2);
  ASSERT_TRUE(store.Save("shared", v1.first, v1.second).ok());

  std::atomic<bool> stop{false};
  std::atomic<int> torn{0};
  std::atomic<int> restores{0};
  std::thread writer([&] {
    for (int i = 0; i < 20; ++i) {
      auto& v = i % 2 == 0 ? v2 : v1;
      EXPECT_TRUE(store.Save("shared", v.first, v.second).ok());
    }
    stop = true;
  });
  std::vector<std::thread> readers;
  for (int r = 0; r < 2; ++r) {
    readers.emplace_back([&, r] {
      for (int i = 0; !stop || i < 5; ++i) {
        std::string dest = tmp_.Sub("r" + std::to_string(r) + "-" + std::to_string(i));
        StatusOr<std::string> got = store.Restore({"shared"}, dest);
        if (!got.ok() || *got != "shared") {
          ++torn;
          continue;
        }
        std::string first = Slurp(dest + "/f0");
        for (int f = 1; f < kFiles; ++f) {
          if (Slurp(dest + "/f" + std::to_string(f)) != first) ++torn;
        }
        ++restores;
        (void)RemoveTree(dest);
      }
    });
  }
  writer.join();
  for (std::thread& t : readers) t.join();
  EXPECT_EQ(torn.load(), 0);
  EXPECT_GE(restores.load(), 10);
}

}  // namespace
}  // namespace slipway
