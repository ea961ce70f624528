#include "store/secret_box.h"

#include <gtest/gtest.h>
#include <stdlib.h>
#include <sys/stat.h>

#include <filesystem>
#include <fstream>
#include <iterator>

namespace slipway {
namespace {

class SecretBoxTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/slipway-secretbox-XXXXXX";
    ASSERT_NE(mkdtemp(tmpl), nullptr);
    dir_ = tmpl;
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }

  void WriteFile(const std::string& path, const std::string& bytes, mode_t mode) {
    std::filesystem::remove(path);  // It may be read-only.
    std::ofstream(path, std::ios::binary) << bytes;
    chmod(path.c_str(), mode);
  }
  static SecretBox Box(char fill) { return *SecretBox::FromKey(std::string(32, fill)); }

  std::string dir_;
};

TEST_F(SecretBoxTest, SealedValuesOpenAgainAndNeverRepeat) {
  SecretBox box = Box('k');
  StatusOr<std::string> a = box.Seal("hunter2", "projects.webhook_secret");
  StatusOr<std::string> b = box.Seal("hunter2", "projects.webhook_secret");
  ASSERT_TRUE(a.ok() && b.ok());
  EXPECT_TRUE(a->starts_with("enc:v1:")) << *a;
  EXPECT_TRUE(SecretBox::IsSealed(*a));
  EXPECT_NE(*a, *b);  // A fresh nonce each time.
  EXPECT_EQ(a->find("hunter2"), std::string::npos);
  // 12-byte nonce + 7 bytes + 16-byte tag = 35 bytes: 48 base64 digits.
  EXPECT_EQ(a->size(), 7u + 48u);
  EXPECT_EQ(*box.Open(*a, "projects.webhook_secret"), "hunter2");
  EXPECT_EQ(*box.Open(*b, "projects.webhook_secret"), "hunter2");

  StatusOr<std::string> empty = box.Seal("", "c");
  ASSERT_TRUE(empty.ok());
  EXPECT_EQ(*box.Open(*empty, "c"), "");
  std::string binary("\0\xff\n", 3);
  EXPECT_EQ(*box.Open(*box.Seal(binary, "c"), "c"), binary);
}

TEST_F(SecretBoxTest, AnotherKeyAnotherContextOrAChangedValueDoNotOpen) {
  SecretBox box = Box('k');
  std::string sealed = *box.Seal("hunter2", "projects.webhook_secret");
  const std::string kWrong =
      "the encrypted value does not decrypt with this key (another key, or the value was changed)";
  StatusOr<std::string> other_key = Box('x').Open(sealed, "projects.webhook_secret");
  ASSERT_FALSE(other_key.ok());
  EXPECT_EQ(other_key.status().message(), kWrong);
  EXPECT_FALSE(box.Open(sealed, "schedules.variables").ok());

  // Every byte of nonce, ciphertext and tag is covered, and every digit of
  // the text: a change to the unused low bits of the last digit (a
  // non-canonical spelling of the same bytes) does not open either.
  for (size_t i = 7; i < sealed.size(); ++i) {
    for (char to : {'A', 'B', 'C', '='}) {
      if (sealed[i] == to) continue;
      std::string changed = sealed;
      changed[i] = to;
      EXPECT_FALSE(box.Open(changed, "projects.webhook_secret").ok()) << i << " " << to;
    }
  }
  EXPECT_EQ(box.Open("hunter2", "c").status().message(), "the value is not encrypted (enc:v1:…)");
  EXPECT_EQ(box.Open("enc:v1:AAAA", "c").status().message(), "the encrypted value is malformed");
  EXPECT_EQ(box.Open("enc:v1:!!!!", "c").status().message(), "the encrypted value is malformed");
  EXPECT_FALSE(SecretBox::FromKey("short").ok());
}

TEST_F(SecretBoxTest, KeyFileIsCreatedPrivateAndReadBack) {
  std::string path = dir_ + "/secrets.key";
  StatusOr<std::optional<SecretBox>> missing = SecretBox::ReadKeyFile(path);
  ASSERT_TRUE(missing.ok());
  EXPECT_FALSE(missing->has_value());

  StatusOr<SecretBox> created = SecretBox::CreateKeyFile(path);
  ASSERT_TRUE(created.ok()) << created.status().message();
  struct stat st {};
  ASSERT_EQ(stat(path.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 07777, 0600u);
  std::ifstream in(path);
  std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  EXPECT_EQ(text.size(), 65u);
  EXPECT_EQ(text.back(), '\n');

  StatusOr<std::optional<SecretBox>> read = SecretBox::ReadKeyFile(path);
  ASSERT_TRUE(read.ok() && read->has_value()) << read.status().message();
  EXPECT_EQ((*read)->KeyId(), created->KeyId());
  EXPECT_EQ(*(*read)->Open(*created->Seal("v", "c"), "c"), "v");
  // Creating again (a concurrent first start) reads the key that won.
  EXPECT_EQ(SecretBox::CreateKeyFile(path)->KeyId(), created->KeyId());
  EXPECT_EQ(created->KeyId().size(), 16u);
  EXPECT_NE(created->KeyId(), Box('k').KeyId());
}

TEST_F(SecretBoxTest, KeyFileFormsAndRefusals) {
  std::string path = dir_ + "/key";
  WriteFile(path, std::string(32, 'k'), 0600);  // 32 raw bytes.
  EXPECT_EQ((*SecretBox::ReadKeyFile(path))->KeyId(), Box('k').KeyId());
  WriteFile(path, std::string(64, 'a'), 0400);  // 64 hex digits, no newline.
  EXPECT_EQ((*SecretBox::ReadKeyFile(path))->KeyId(), Box('\xaa').KeyId());

  WriteFile(path, "too short\n", 0600);
  StatusOr<std::optional<SecretBox>> bad = SecretBox::ReadKeyFile(path);
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.status().message(),
            "the secrets key file '" + path +
                "' must hold 32 bytes, or 64 hex digits and a newline (`openssl rand -hex 32`)");
  WriteFile(path, std::string(63, 'a') + "g\n", 0600);
  EXPECT_FALSE(SecretBox::ReadKeyFile(path).ok());

  WriteFile(path, std::string(32, 'k'), 0640);
  bad = SecretBox::ReadKeyFile(path);
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.status().message(),
            "the secrets key file '" + path +
                "' has mode 0640: others than its owner may read it; chmod 600 it (and consider "
                "the key known)");
  EXPECT_FALSE(SecretBox::ReadKeyFile(dir_).ok());  // A directory.
}

}  // namespace
}  // namespace slipway
