#include "image/reference.h"

#include <gtest/gtest.h>

#include "image/auth_challenge.h"
#include "image/credentials.h"
#include "image/registry_client.h"

namespace slipway {
namespace {

std::string Canonical(const std::string& name) {
  StatusOr<ImageReference> ref = ParseImageReference(name);
  return ref.ok() ? ref->Canonical() : "error: " + ref.status().message();
}

TEST(ImageReferenceTest, DockerHubShortNamesAsDockerExpandsThem) {
  EXPECT_EQ(Canonical("alpine"), "registry-1.docker.io/library/alpine:latest");
  EXPECT_EQ(Canonical("alpine:3.19"), "registry-1.docker.io/library/alpine:3.19");
  EXPECT_EQ(Canonical("docker.io/library/alpine"), "registry-1.docker.io/library/alpine:latest");
  EXPECT_EQ(Canonical("bitnami/redis:7"), "registry-1.docker.io/bitnami/redis:7");
  EXPECT_EQ(Canonical("index.docker.io/ubuntu"), "registry-1.docker.io/library/ubuntu:latest");
}

TEST(ImageReferenceTest, RegistriesPortsTagsAndDigests) {
  EXPECT_EQ(Canonical("registry.example.com:5000/group/sub/tool:1.2"),
            "registry.example.com:5000/group/sub/tool:1.2");
  EXPECT_EQ(Canonical("localhost/x"), "localhost/x:latest");
  std::string digest = "sha256:" + std::string(64, 'a');
  EXPECT_EQ(Canonical("127.0.0.1:5000/x@" + digest), "127.0.0.1:5000/x@" + digest);
  StatusOr<ImageReference> both = ParseImageReference("alpine:3.19@" + digest);
  ASSERT_TRUE(both.ok());
  EXPECT_EQ(both->ManifestRef(), digest) << "the digest wins over the tag";
}

TEST(ImageReferenceTest, InvalidNamesAreErrorsThatSayWhy) {
  EXPECT_EQ(Canonical("Alpine"),
            "error: invalid image name `Alpine`: the repository "
            "`library/Alpine` must be "
            "lower-case letters, digits and separators (. _ -) between '/'");
  EXPECT_EQ(Canonical("alpine@sha256:abc"),
            "error: invalid image name `alpine@sha256:abc`: the digest must be "
            "sha256: and 64 "
            "lower-case hex digits");
  EXPECT_EQ(Canonical("alpine:-x"),
            "error: invalid image name `alpine:-x`: `-x` is not a valid tag");
  EXPECT_EQ(Canonical(""), "error: invalid image name ``: it is empty");
  EXPECT_EQ(Canonical("a//b"),
            "error: invalid image name `a//b`: the "
            "repository `a//b` must be lower-case letters, "
            "digits and separators (. _ -) between '/'");
}

TEST(AuthChallengeTest, BearerWithAQuotedScopeHoldingCommas) {
  AuthChallenge c = ParseAuthChallenge(
      R"(Bearer realm="https://auth.docker.io/token",service="registry.docker.io",)"
      R"(scope="repository:samalba/my-app:pull,push")");
  EXPECT_EQ(c.scheme, "bearer");
  EXPECT_EQ(c.Param("realm"), "https://auth.docker.io/token");
  EXPECT_EQ(c.Param("service"), "registry.docker.io");
  EXPECT_EQ(c.Param("scope"), "repository:samalba/my-app:pull,push");
  EXPECT_EQ(ParseAuthChallenge(R"(Basic realm="Registry")").scheme, "basic");
}

TEST(CredentialsTest, DockerAuthConfigKeysAsDockerMatchesThem) {
  CredentialStore store;
  ASSERT_TRUE(store
                  .AddConfig(R"({"auths":{
                      "https://index.docker.io/v1/": {"auth": "aHViOnB3"},
                      "registry.example.com:5000": {"auth": "dXNlcjpwYTpzcw=="},
                      "http://plain.example": {"username": "u", "password": "p"}}})",
                             "$DOCKER_AUTH_CONFIG")
                  .ok());
  auto hub = *store.For(kDockerHubRegistry);
  ASSERT_TRUE(hub);
  EXPECT_EQ(hub->username, "hub");
  EXPECT_EQ(hub->password, "pw");
  auto example = *store.For("registry.example.com:5000");
  ASSERT_TRUE(example);
  EXPECT_EQ(example->password, "pa:ss") << "the password may hold ':'";
  EXPECT_TRUE(*store.For("plain.example"));
  EXPECT_FALSE(*store.For("registry.example.com"));
  Status bad = store.AddConfig(R"({"auths":{"x":{"auth":"bm9jb2xvbg=="}}})", "$DOCKER_AUTH_CONFIG");
  EXPECT_EQ(bad.message(),
            "$DOCKER_AUTH_CONFIG: the \"auth\" of `x` is not "
            "base64 of USER:PASSWORD");
}

TEST(PlainHttpTest, OnlyLoopbackAndListedRegistries) {
  EXPECT_TRUE(AllowsPlainHttp("127.0.0.1:5000", {}));
  EXPECT_TRUE(AllowsPlainHttp("127.8.9.10", {}));
  EXPECT_TRUE(AllowsPlainHttp("localhost:5000", {}));
  EXPECT_TRUE(AllowsPlainHttp("[::1]:5000", {}));
  EXPECT_FALSE(AllowsPlainHttp("127.0.0.1.evil.example", {}));
  EXPECT_FALSE(AllowsPlainHttp("registry.example.com", {}));
  EXPECT_TRUE(AllowsPlainHttp("registry.lan:5000", {"registry.lan:5000"}));
  EXPECT_TRUE(AllowsPlainHttp("registry.lan:5000", {"registry.lan"}));
  EXPECT_FALSE(AllowsPlainHttp("other.lan:5000", {"registry.lan"}));
}

}  // namespace
}  // namespace slipway
